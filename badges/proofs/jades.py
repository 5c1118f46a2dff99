"""JAdES e-seals (B-B, and B-T with a time-stamping authority): enveloping JWS JSON
serialisation with an unencoded payload.

The shape follows the European Commission's signed EDC samples (ETSI TS 119 182-1):

    {"payload": "<the credential JSON text>",
     "signatures": [{"protected": "<base64url header>", "signature": "<base64url>"}]}

with the protected header ``alg, cty, kid, x5t#S256, x5c, typ, b64: false, iat, crit: ["b64"]``.
``iat`` (integer seconds) is the claimed signing time that current DSS expects; older seals
(ours before, and the samples) carry ``sigT`` in ``crit``, which is still read.
``b64: false`` (RFC 7797) means the payload is signed as it stands, so the credential stays
readable JSON; the signing input is ``base64url(header) || "." || payload bytes``.

B-T adds an RFC 3161 signature timestamp in the unsigned header, ``etsiU: [base64url({"sigTst":
{"tstTokens": [{"val": <base64 DER token>}]}})]`` as in the official samples; the verifier
checks it (imprint, TSA signature, TSA chain). B-LT adds the chain's validation data after it:
``{"xVals": [{"x509Cert": {"val": …}}]}`` (the issuers' certificates) and ``{"rVals":
{"crlVals": [{"val": …}]}}`` (their CRLs, `badges.proofs.revocation`); the verifier checks the
certificates against those embedded CRLs at the time the timestamp proves. Archive timestamps
(``adoTst``) are recognised, not checked. Whether the certificate is *qualified*
(on an EU trusted list) is a network question, always reported as skipped here.

Verdicts follow ETSI EN 319 102-1 in spirit: a seal whose certificate does not chain to a
configured trust anchor is intact but not trusted (indeterminate), never valid.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.hazmat.primitives.asymmetric.utils import (
    encode_dss_signature,
)

from badges.proofs import revocation, timestamps
from badges.proofs.timestamps import Timestamper
from keys.signer import ESealSigner

Algorithm = Literal["RS256", "PS256", "ES256"]
ALGORITHMS: tuple[str, ...] = ("RS256", "PS256", "ES256")

# As in the official samples: the payload is opaque octets to JOSE, the whole is jose+json.
TYP = "jose+json"
CTY = "octet-stream"
# Header parameters this module understands when they are listed in `crit`. adoTst (archive
# timestamps of B-T and above) is understood as a name; its tokens are not checked offline.
_UNDERSTOOD_CRIT = frozenset({"b64", "sigT", "adoTst"})
_QC_STATEMENTS_OID = x509.ObjectIdentifier("1.3.6.1.5.5.7.1.3")
_MAX_DOCUMENT_CHARS = 20 * 1024 * 1024
_MAX_CHAIN = 10


class SealError(ValueError):
    """A seal cannot be made: unusable key, certificate or algorithm."""


class SealFormatError(ValueError):
    """A document is not a JAdES JSON-serialised JWS."""


Status = Literal["ok", "warning", "error", "skipped"]


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    message: str
    # A step that could not establish trust (no anchor): the verdict is indeterminate.
    indeterminate: bool = False


@dataclass
class SealReport:
    """Every check made on a seal. `intact`: no check failed; `valid`: intact and trusted."""

    checks: list[Check] = field(default_factory=list)
    payload: bytes | None = None
    header: dict[str, Any] = field(default_factory=dict)
    signer: str | None = None
    signing_time: datetime | None = None
    timestamp_time: datetime | None = None  # proven by a verified signature timestamp

    @property
    def intact(self) -> bool:
        return bool(self.checks) and not any(c.status == "error" for c in self.checks)

    @property
    def trusted(self) -> bool:
        return not any(c.indeterminate for c in self.checks)

    @property
    def valid(self) -> bool:
        return self.intact and self.trusted

    @property
    def errors(self) -> list[Check]:
        return [c for c in self.checks if c.status == "error"]

    def status_of(self, name: str) -> Status | None:
        return next((c.status for c in self.checks if c.name == name), None)

    @property
    def level(self) -> str:
        """The JAdES baseline level the seal shows: B-B, B-T (a verified signature timestamp)
        or B-LT (and revocation values that vouch for every certificate)."""
        if self.timestamp_time is None:
            return "B-B"
        revocation = [c for c in self.checks if c.name == "revocation"]
        if revocation and all(c.status == "ok" for c in revocation):
            return "B-LT"
        return "B-T"

    def add(self, name: str, status: Status, message: str, *, indeterminate: bool = False) -> None:
        self.checks.append(Check(name, status, message, indeterminate))


# --- sealing -----------------------------------------------------------------------------


def seal(
    payload: bytes,
    signer: ESealSigner,
    *,
    signing_time: datetime | None = None,
    timestamper: Timestamper | None = None,
    validation_data: revocation.ValidationData | None = None,
) -> dict[str, Any]:
    """Seal `payload` (UTF-8 JSON text) with the signer's key and certificate chain (leaf first).

    JAdES-B-B; with a `timestamper` (a TSA client), B-T: the signature is time-stamped; with
    `validation_data` too, B-LT (the chain's certificates and CRLs in the unsigned header).
    The certificate must be valid at the signing time: a seal made with an expired
    certificate would be refused by any verifier, so it is never made.
    """
    chain = signer.chain
    if not chain:
        raise SealError("a seal needs the e-seal certificate (and optionally its chain)")
    leaf = chain[0]
    if _spki(leaf.public_key()) != _spki(signer.public_key):
        raise SealError("the private key does not belong to the e-seal certificate")
    when = (signing_time or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    if when < leaf.not_valid_before_utc:
        raise SealError(
            f"the e-seal certificate is not valid before {_iso(leaf.not_valid_before_utc)}"
        )
    if when > leaf.not_valid_after_utc:
        raise SealError(f"the e-seal certificate expired on {_iso(leaf.not_valid_after_utc)}")
    alg = signer.algorithm
    _check_key_fits(alg, signer.public_key)
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise SealError("the payload must be UTF-8 text") from None

    header = {
        "alg": alg,
        "cty": CTY,
        "kid": base64.b64encode(issuer_serial_der(leaf)).decode("ascii"),
        "x5t#S256": _b64url(hashlib.sha256(_der(leaf)).digest()),
        "x5c": [base64.b64encode(_der(c)).decode("ascii") for c in chain],
        "typ": TYP,
        "b64": False,
        "iat": int(when.timestamp()),
        "crit": ["b64"],
    }
    protected = _b64url(json.dumps(header, separators=(",", ":")).encode("utf-8"))
    signature = _b64url(signer.sign(protected.encode("ascii") + b"." + payload))
    entry: dict[str, Any] = {"protected": protected, "signature": signature}
    if timestamper is not None:
        token = timestamper(signature.encode("ascii"))
        sig_tst = {"sigTst": {"tstTokens": [{"val": base64.b64encode(token).decode("ascii")}]}}
        items: list[Any] = [sig_tst]
        if validation_data is not None:
            items += validation_data.etsi_u_items()
        entry["header"] = {"etsiU": [_b64url(json.dumps(i).encode("utf-8")) for i in items]}
    elif validation_data is not None:
        raise SealError("B-LT validation data needs a signature timestamp (B-T) first")
    return {"payload": text, "signatures": [entry]}


def _check_key_fits(alg: str, key: PublicKeyTypes) -> None:
    if alg in ("RS256", "PS256"):
        if not isinstance(key, rsa.RSAPublicKey):
            raise SealError(f"{alg} needs an RSA key")
        if key.key_size < 2048:
            raise SealError("RSA e-seal keys must have at least 2048 bits")
    elif alg == "ES256":
        if not isinstance(key, ec.EllipticCurvePublicKey) or not (
            isinstance(key.curve, ec.SECP256R1)
        ):
            raise SealError("ES256 needs an EC P-256 key")
    else:
        raise SealError(f"unsupported seal algorithm {alg!r}; use one of {', '.join(ALGORITHMS)}")


def _pss() -> padding.PSS:
    # RFC 7518 §3.5: MGF1 with SHA-256 and a salt as long as the hash.
    return padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)


# --- verification ------------------------------------------------------------------------


def is_jades_document(document: Any) -> bool:
    """True for the JSON serialisation of a JWS (what a sealed EDC file holds)."""
    return (
        isinstance(document, dict)
        and isinstance(document.get("payload"), str)
        and isinstance(document.get("signatures"), list)
    )


def parse_document(raw: str | bytes | dict[str, Any]) -> dict[str, Any]:
    if isinstance(raw, dict):
        document = raw
    else:
        if len(raw) > _MAX_DOCUMENT_CHARS:
            raise SealFormatError("the sealed document is too large")
        try:
            document = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise SealFormatError("the sealed document is not JSON") from None
    if not is_jades_document(document):
        raise SealFormatError(
            "not a JAdES JSON-serialised seal (expected 'payload' text and 'signatures')"
        )
    return document


def verify_seal(
    document: str | bytes | dict[str, Any],
    *,
    trust_anchors: Sequence[x509.Certificate] = (),
    now: datetime | None = None,
) -> SealReport:
    """Check a JAdES seal: signature against the x5c leaf, header binding, timestamps,
    chain, dates.

    An expired certificate is an error unless a verified signature timestamp proves the seal
    was made while it was valid. A chain that does not reach a configured trust anchor leaves
    the seal intact but not trusted (indeterminate); the qualified-status check is always
    skipped (offline).
    """
    report = SealReport()
    now = (now or datetime.now(UTC)).astimezone(UTC)
    try:
        document = parse_document(document)
        signatures = document["signatures"]
        if len(signatures) != 1 or not isinstance(signatures[0], dict):
            raise SealFormatError("expected exactly one signature")
        entry = signatures[0]
        protected = entry.get("protected")
        signature_text = entry.get("signature")
        if not isinstance(protected, str) or not isinstance(signature_text, str):
            raise SealFormatError("the signature lacks 'protected' or 'signature' text")
        header = json.loads(_b64url_decode(protected))
        if not isinstance(header, dict):
            raise SealFormatError("the protected header is not a JSON object")
        signature = _b64url_decode(signature_text)
    except (SealFormatError, ValueError, binascii.Error) as exc:
        report.add(
            "format", "error", str(exc) if isinstance(exc, SealFormatError) else "malformed JWS"
        )
        return report
    report.header = header
    payload = document["payload"].encode("utf-8")
    report.payload = payload

    chain = _check_header(report, header)
    if chain is None:
        return report
    leaf = chain[0]
    report.signer = leaf.subject.rfc4514_string()

    alg = header["alg"]
    try:
        _check_key_fits(alg, leaf.public_key())
        _verify_signature(
            alg, leaf.public_key(), protected.encode("ascii") + b"." + payload, signature
        )
        report.add("signature", "ok", f"{alg} signature verified with the x5c leaf certificate")
    except SealError as exc:
        report.add("signature", "error", str(exc))
    except InvalidSignature:
        report.add("signature", "error", "the signature does not match the payload and header")

    _check_timestamps(report, entry, signature_text, trust_anchors)
    _check_dates(report, leaf, header, now)
    x_vals, r_vals = _validation_values(entry)
    _check_chain(report, chain, trust_anchors, _certificates(x_vals))
    if x_vals is not None or r_vals is not None:
        for finding in revocation.check_embedded(
            chain, x_vals, r_vals, anchors=trust_anchors, at=report.timestamp_time
        ):
            report.add("revocation", finding.status, finding.message)  # type: ignore[arg-type]
    _check_usage(report, leaf)
    qualified = _has_extension(leaf, _QC_STATEMENTS_OID)
    declared = "declares" if qualified else "declares no"
    report.add(
        "qualified",
        "skipped",
        f"certificate {declared} QC statements; the EU trusted-list check needs the network",
    )
    return report


def _check_header(report: SealReport, header: dict[str, Any]) -> list[x509.Certificate] | None:
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        report.add(
            "header", "error", f"unsupported alg {alg!r}; expected one of {', '.join(ALGORITHMS)}"
        )
        return None
    if header.get("b64") is not False:
        report.add("header", "error", "expected an unencoded payload (b64: false)")
        return None
    crit = header.get("crit")
    if not isinstance(crit, list) or "b64" not in crit:
        report.add("header", "error", "'b64' must be listed in 'crit' (RFC 7797)")
        return None
    # Names are strings: a list or object in `crit` is not a name (and is unhashable).
    unknown = [c for c in crit if not isinstance(c, str) or c not in _UNDERSTOOD_CRIT]
    if unknown or any(c not in header for c in crit):
        report.add(
            "header",
            "error",
            f"critical header parameters not understood or absent: {unknown or crit}",
        )
        return None
    x5c = header.get("x5c")
    if not isinstance(x5c, list) or not x5c or len(x5c) > _MAX_CHAIN:
        report.add("header", "error", "x5c must list the signing certificate (and its chain)")
        return None
    try:
        chain = [x509.load_der_x509_certificate(base64.b64decode(c, validate=True)) for c in x5c]
    except (ValueError, TypeError, binascii.Error):
        report.add("header", "error", "x5c holds a certificate that does not parse")
        return None
    leaf = chain[0]
    thumbprint = header.get("x5t#S256")
    if thumbprint is not None and thumbprint != _b64url(hashlib.sha256(_der(leaf)).digest()):
        report.add("header", "error", "x5t#S256 does not match the x5c leaf certificate")
        return None
    kid = header.get("kid")
    if isinstance(kid, str):
        try:
            matches = base64.b64decode(kid, validate=True) == issuer_serial_der(leaf)
        except (ValueError, binascii.Error):
            matches = False
        if not matches:
            # JAdES kid is the issuer-serial of the signing certificate; other forms are allowed.
            report.add("kid", "warning", "kid is not the issuer and serial of the x5c leaf")
    if thumbprint is None:
        report.add(
            "header", "warning", "no x5t#S256: the signing certificate is not bound by digest"
        )
    report.add(
        "header", "ok", f"JAdES header: {alg}, unencoded payload, {len(chain)} certificate(s)"
    )
    return chain


def _verify_signature(alg: str, key: Any, data: bytes, signature: bytes) -> None:
    if alg == "RS256":
        key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    elif alg == "PS256":
        key.verify(signature, data, _pss(), hashes.SHA256())
    else:
        if len(signature) != 64:
            raise InvalidSignature
        r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        key.verify(encode_dss_signature(r, s), data, ec.ECDSA(hashes.SHA256()))


def _claimed_signing_time(header: dict[str, Any]) -> datetime | None:
    """`iat` (integer seconds, current JAdES) or, for older seals, `sigT` (ISO text)."""
    iat = header.get("iat")
    if isinstance(iat, int) and not isinstance(iat, bool):
        try:
            return datetime.fromtimestamp(iat, UTC)
        except (ValueError, OverflowError, OSError):
            return None
    sig_t = header.get("sigT")
    return _parse_time(sig_t) if isinstance(sig_t, str) else None


def _check_dates(
    report: SealReport, leaf: x509.Certificate, header: dict[str, Any], now: datetime
) -> None:
    not_before, not_after = leaf.not_valid_before_utc, leaf.not_valid_after_utc
    signing_time = _claimed_signing_time(header)
    report.signing_time = signing_time
    if signing_time is None:
        report.add("signing-time", "warning", "no readable iat or sigT: signing time unknown")
    elif not_before <= signing_time <= not_after:
        report.add(
            "signing-time", "ok", f"certificate valid at the signing time {_iso(signing_time)}"
        )
    else:
        report.add(
            "signing-time",
            "error",
            f"certificate was not valid at the signing time {_iso(signing_time)} "
            f"(valid {_iso(not_before)} to {_iso(not_after)})",
        )
    proven = report.timestamp_time
    if now > not_after:
        # The claimed time is the signer's word; only a timestamp proves when the seal was made.
        if proven is not None and not_before <= proven <= not_after:
            report.add(
                "certificate-expiry",
                "ok",
                f"the seal certificate expired on {_iso(not_after)}, but a timestamp proves "
                f"the seal was made on {_iso(proven)}",
            )
        else:
            report.add(
                "certificate-expiry",
                "error",
                f"the seal certificate expired on {_iso(not_after)} and no verified timestamp "
                "proves the seal was made before",
            )
    elif now < not_before:
        report.add(
            "certificate-expiry",
            "error",
            f"the seal certificate is not valid before {_iso(not_before)}",
        )
    else:
        report.add("certificate-expiry", "ok", f"certificate valid until {_iso(not_after)}")


def _etsi_u_items(entry: dict[str, Any]) -> list[Any]:
    unsigned = entry.get("header")
    items = unsigned.get("etsiU") if isinstance(unsigned, dict) else None
    decoded = []
    for item in items[: _MAX_CHAIN * 2] if isinstance(items, list) else []:
        if isinstance(item, str):
            try:
                item = json.loads(_b64url_decode(item))
            except (SealFormatError, ValueError, binascii.Error, RecursionError):
                continue
        decoded.append(item)
    return decoded


def _validation_values(entry: dict[str, Any]) -> tuple[Any, Any]:
    """The unsigned header's xVals and rVals (B-LT), or None for each that is absent."""
    x_vals = r_vals = None
    for item in _etsi_u_items(entry):
        if isinstance(item, dict):
            x_vals = item.get("xVals", x_vals)
            r_vals = item.get("rVals", r_vals)
    return x_vals, r_vals


def _certificates(x_vals: Any) -> list[x509.Certificate]:
    found, _bad = revocation.values(x_vals, "x509Cert", x509.load_der_x509_certificate)
    return [c for c in found if isinstance(c, x509.Certificate)]


def _signature_timestamps(entry: dict[str, Any]) -> list[Any] | None:
    """The sigTst tokens of the unsigned header (etsiU items: base64url JSON or clear JSON)."""
    unsigned = entry.get("header")
    if not isinstance(unsigned, dict):
        return None
    items = unsigned.get("etsiU")
    if not isinstance(items, list):
        return None
    tokens: list[Any] = []
    for item in items[:_MAX_CHAIN]:
        if isinstance(item, str):
            try:
                item = json.loads(_b64url_decode(item))
            except (SealFormatError, ValueError, binascii.Error, RecursionError):
                tokens.append(None)
                continue
        if isinstance(item, dict) and "sigTst" in item:
            sig_tst = item["sigTst"]
            found = sig_tst.get("tstTokens") if isinstance(sig_tst, dict) else None
            tokens.extend(found[:_MAX_CHAIN] if isinstance(found, list) and found else [None])
    return tokens


def _check_timestamps(
    report: SealReport,
    entry: dict[str, Any],
    signature_text: str,
    anchors: Sequence[x509.Certificate],
) -> None:
    tokens = _signature_timestamps(entry)
    if report.header.get("adoTst") is not None or (tokens is None and entry.get("header")):
        report.add("archive-timestamps", "skipped", "archive timestamps are not checked")
    if not tokens:
        return
    for token in tokens:
        value = token.get("val") if isinstance(token, dict) else None
        try:
            der = base64.b64decode(value, validate=True) if isinstance(value, str) else b""
        except (ValueError, binascii.Error):
            der = b""
        if not der:
            report.add("timestamp", "error", "a signature timestamp is not a base64 token")
            continue
        result = timestamps.check_token(der, signature_text.encode("ascii"), anchors)
        when = f" ({_iso(result.time)})" if result.time else ""
        if not result.intact:
            report.add("timestamp", "error", result.message + when)
            continue
        if report.timestamp_time is None or (
            result.time is not None and result.time < report.timestamp_time
        ):
            report.timestamp_time = result.time
        if result.trusted:
            report.add("timestamp", "ok", result.message + when)
        else:
            report.add("timestamp", "warning", result.message + when, indeterminate=True)


def check_chain(chain: list[x509.Certificate], anchors: Sequence[x509.Certificate]) -> Check:
    """The chain check alone (as `verify_seal` makes it): ok only when the leaf chains to one
    of `anchors` through signatures that verify."""
    report = SealReport()
    _check_chain(report, chain, anchors)
    return report.checks[-1]


def _check_chain(
    report: SealReport,
    chain: list[x509.Certificate],
    anchors: Sequence[x509.Certificate],
    extra: Sequence[x509.Certificate] = (),
) -> None:
    """Walk issuer links from the leaf through x5c (and xVals) and the anchors, verifying each
    signature."""
    anchor_ders = {_der(a) for a in anchors}
    pool = chain[1:] + list(extra) + list(anchors)
    current, seen = chain[0], set[bytes]()
    while len(seen) <= _MAX_CHAIN:
        if _der(current) in anchor_ders:
            report.add(
                "chain", "ok", f"chains to the trust anchor {current.subject.rfc4514_string()}"
            )
            return
        if current.issuer == current.subject:
            message = (
                "self-signed certificate: fine for testing, not accepted as an e-seal"
                if current is chain[0]
                else f"the chain ends at {current.subject.rfc4514_string()}, not a trust anchor"
            )
            break
        seen.add(_der(current))
        parent = next(
            (c for c in pool if c.subject == current.issuer and _der(c) not in seen), None
        )
        if parent is None:
            message = f"issuer {current.issuer.rfc4514_string()} is not a configured trust anchor"
            break
        try:
            current.verify_directly_issued_by(parent)
        except (ValueError, TypeError, InvalidSignature):
            report.add(
                "chain", "error", f"{current.subject.rfc4514_string()} is not signed by its issuer"
            )
            return
        current = parent
    else:
        message = "the certificate chain is too long"
    # Intact but not trusted: nothing says who holds this certificate.
    report.add(
        "chain",
        "warning",
        message if anchors else message + " (no trust anchors configured)",
        indeterminate=True,
    )


def _check_usage(report: SealReport, leaf: x509.Certificate) -> None:
    try:
        usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        report.add("key-usage", "warning", "the certificate has no key usage extension")
        return
    if usage.content_commitment or usage.digital_signature:
        report.add("key-usage", "ok", "key usage allows signatures")
    else:
        report.add("key-usage", "error", "the certificate's key usage forbids signatures")


# --- helpers -----------------------------------------------------------------------------


def issuer_serial_der(cert: x509.Certificate) -> bytes:
    """DER of IssuerSerial {GeneralNames {directoryName issuer}, serialNumber} (RFC 5035)."""
    name = cert.issuer.public_bytes()
    directory_name = _tlv(0xA4, name)  # [4] EXPLICIT Name
    general_names = _tlv(0x30, directory_name)
    serial = cert.serial_number
    serial_bytes = serial.to_bytes(serial.bit_length() // 8 + 1, "big", signed=True)
    return _tlv(0x30, general_names + _tlv(0x02, serial_bytes))


def _tlv(tag: int, value: bytes) -> bytes:
    n = len(value)
    if n < 0x80:
        length = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + length + value


def _has_extension(cert: x509.Certificate, oid: x509.ObjectIdentifier) -> bool:
    try:
        cert.extensions.get_extension_for_oid(oid)
    except x509.ExtensionNotFound:
        return False
    except ValueError:
        return False
    return True


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def _spki(key: PublicKeyTypes) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    if "=" in text or "+" in text or "/" in text:
        raise SealFormatError("base64url text expected")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(text: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        # "0001-01-01T00:00:00+14:00" parses but has no UTC moment: OverflowError.
        return parsed.astimezone(UTC) if parsed.tzinfo is not None else None
    except (ValueError, OverflowError):
        return None
