"""RFC 3161 signature timestamps for JAdES-B-T seals, through Trail of Bits' `rfc3161-client`.

A JAdES signature timestamp (`sigTst`, ETSI TS 119 182-1 §5.3.4.2) is a TimeStampToken whose
message imprint is computed over the base64url text of the JWS signature value (checked
against the Commission's signed samples). The token proves the signature existed at the
TSA's time: a seal whose certificate has since expired stays verifiable.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import httpx
from cryptography import x509
from rfc3161_client import (
    HashAlgorithm,
    PKIStatus,
    TimestampRequestBuilder,
    TimeStampResponse,
    VerificationError,
    VerifierBuilder,
    decode_timestamp_response,
)

MEDIA_TYPE_QUERY = "application/timestamp-query"
MEDIA_TYPE_REPLY = "application/timestamp-reply"
_MAX_REPLY_BYTES = 256 * 1024
# PKIStatusInfo {status granted}: what a TimeStampResp holds before its token.
_GRANTED = bytes.fromhex("3003020100")

Timestamper = Callable[[bytes], bytes]


class TimestampError(ValueError):
    """The time-stamping authority could not be reached or gave no usable token."""


def request_token(url: str, message: bytes, *, timeout: float = 10.0) -> bytes:
    """A TimeStampToken (DER) over SHA-256(message) from the TSA at `url` (RFC 3161 over HTTP).

    The reply is checked before it is used: granted, our nonce, our imprint.
    """
    request = (
        TimestampRequestBuilder()
        .data(message)
        .hash_algorithm(HashAlgorithm.SHA256)  # the library's default is SHA-512
        .nonce(nonce=True)
        .cert_request(cert_request=True)
        .build()
    )
    try:
        reply = httpx.post(
            url,
            content=request.as_bytes(),
            headers={"Content-Type": MEDIA_TYPE_QUERY, "Accept": MEDIA_TYPE_REPLY},
            timeout=timeout,
        )
    except httpx.HTTPError as exc:
        raise TimestampError(f"the time-stamping authority is unreachable: {exc}") from None
    if reply.status_code != 200 or len(reply.content) > _MAX_REPLY_BYTES:
        raise TimestampError(f"the time-stamping authority answered HTTP {reply.status_code}")
    try:
        response = decode_timestamp_response(reply.content)
    except ValueError:
        raise TimestampError("the time-stamping authority's reply is not a TimeStampResp") from None
    if response.status not in (PKIStatus.GRANTED, PKIStatus.GRANTED_WITH_MODS):
        detail = "; ".join(response.status_string) or f"status {response.status}"
        raise TimestampError(f"the time-stamping authority refused: {detail}")
    info = response.tst_info
    if info.nonce != request.nonce:
        raise TimestampError("the time-stamping authority's reply does not carry our nonce")
    if info.message_imprint.message != hashlib.sha256(message).digest():
        raise TimestampError("the time-stamping authority stamped another imprint")
    return response.time_stamp_token()


def timestamper(url: str, *, timeout: float = 10.0) -> Timestamper:
    return lambda message: request_token(url, message, timeout=timeout)


@dataclass(frozen=True)
class TimestampCheck:
    """What a token proves. `intact`: the TSA signature and imprint hold; `trusted`: the TSA
    certificate chains to a configured anchor as well."""

    intact: bool
    trusted: bool
    time: datetime | None
    message: str


def check_token(
    token: bytes, message: bytes, anchors: Sequence[x509.Certificate] = ()
) -> TimestampCheck:
    """Verify a TimeStampToken over `message`: imprint, TSA signature, and TSA chain.

    Against the anchors when configured; otherwise against the self-signed root the token
    carries, which proves the token intact but not who the TSA is.
    """
    try:
        response = decode_timestamp_response(_tlv(0x30, _GRANTED + token))
    except ValueError:
        return TimestampCheck(False, False, None, "the timestamp token does not parse")
    when = response.tst_info.gen_time
    embedded = [x509.load_der_x509_certificate(c) for c in response.signed_data.certificates]
    if anchors:
        failure = _verify(response, message, list(anchors))
        if failure is None:
            return TimestampCheck(True, True, when, "timestamp by a trusted TSA")
    roots = [c for c in embedded if c.issuer == c.subject]
    if not roots:
        return TimestampCheck(
            False, False, when, "the timestamp token carries no root to check its TSA signature"
        )
    failure = _verify(response, message, roots)
    if failure is not None:
        return TimestampCheck(False, False, when, f"the timestamp does not verify: {failure}")
    return TimestampCheck(
        True,
        False,
        when,
        "timestamp intact, but its TSA does not chain to a configured trust anchor"
        if anchors
        else "timestamp intact; its TSA is not checked (no trust anchors configured)",
    )


def _verify(
    response: TimeStampResponse, message: bytes, roots: list[x509.Certificate]
) -> str | None:
    # Every certificate handed to the verifier is trusted, so never the token's own: the
    # library takes those from the token as untrusted path material.
    builder = VerifierBuilder(roots=roots)
    try:
        builder.build().verify_message(response, message)
    except (VerificationError, ValueError) as exc:
        return str(exc) or type(exc).__name__
    return None


def _tlv(tag: int, value: bytes) -> bytes:
    n = len(value)
    if n < 0x80:
        length = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + length + value
