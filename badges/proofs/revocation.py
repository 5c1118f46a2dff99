"""Revocation data of an e-seal certificate chain, for JAdES-B-LT (ETSI TS 119 182-1): the
certificate values (``xVals``) and revocation values (``rVals``) a verifier needs once the
CAs' services are gone.

Sealing collects, for each certificate of the chain below its root, the CRL its CRL
distribution point names (fetched by the caller's bounded `fetch`), checks it (signed by the
certificate's issuer, current) and that the certificate is not on it. Any gap is an
`Unavailable` with the reason, and the seal stays B-T. Verification reads only the embedded
values. OCSP responses are not fetched; embedded ones are reported as not checked.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization

Fetch = Callable[[str], bytes]
T = TypeVar("T")
_MAX_URLS = 3
_MAX_VALUES = 20


class Unavailable(Exception):
    """The chain's revocation data cannot be had; the message says why."""


class CertificateRevoked(ValueError):
    """A certificate of the chain is on its issuer's CRL: nothing may be sealed with it."""


@dataclass(frozen=True)
class ValidationData:
    certificates: list[x509.Certificate]  # the issuers the CRLs are checked with (xVals)
    crls: list[x509.CertificateRevocationList]  # one per certificate below the root (rVals)

    def etsi_u_items(self) -> list[dict[str, object]]:
        """The two unsigned-header items, as JAdES writes them (pkiOb: {"val": base64})."""
        return [
            {"xVals": [{"x509Cert": {"val": _b64(_der(c))}} for c in self.certificates]},
            {"rVals": {"crlVals": [{"val": _b64(_crl_der(c))} for c in self.crls]}},
        ]


def crl_urls(cert: x509.Certificate) -> list[str]:
    """The http(s) URLs of the certificate's CRL distribution points."""
    try:
        points = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    except (x509.ExtensionNotFound, ValueError):
        return []
    urls = []
    for point in points:
        for name in point.full_name or []:
            if isinstance(name, x509.UniformResourceIdentifier) and name.value.startswith(
                ("http://", "https://")
            ):
                urls.append(name.value)
    return urls[:_MAX_URLS]


def _self_signed(cert: x509.Certificate) -> bool:
    return cert.issuer == cert.subject


def _issuer_of(cert: x509.Certificate, pool: Sequence[x509.Certificate]) -> x509.Certificate | None:
    for candidate in pool:
        if candidate.subject != cert.issuer:
            continue
        try:
            cert.verify_directly_issued_by(candidate)
        except (ValueError, TypeError, InvalidSignature):
            continue
        return candidate
    return None


def load_crl(data: bytes) -> x509.CertificateRevocationList:
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_crl(data)
        return x509.load_der_x509_crl(data)
    except ValueError:
        raise Unavailable("the CRL does not parse") from None


def crl_problem(
    crl: x509.CertificateRevocationList, issuer: x509.Certificate, at: datetime
) -> str | None:
    """Why the CRL cannot vouch for `issuer`'s certificates at `at` (None: it can)."""
    if crl.issuer != issuer.subject:
        return f"the CRL is not {issuer.subject.rfc4514_string()}'s"
    try:
        if not crl.is_signature_valid(issuer.public_key()):  # type: ignore[arg-type]  # RSA/EC
            return "the CRL's signature does not verify with its issuer's key"
    except TypeError:
        return "the CRL is signed with an unsupported key"
    if crl.last_update_utc > at:
        return f"the CRL was issued after {_iso(at)}"
    next_update = crl.next_update_utc
    if next_update is not None and next_update < at:
        return f"the CRL was outdated at {_iso(at)} (next update {_iso(next_update)})"
    return None


def collect(
    chain: Sequence[x509.Certificate],
    fetch: Fetch,
    *,
    anchors: Sequence[x509.Certificate] = (),
    now: datetime | None = None,
) -> ValidationData:
    """The issuers and CRLs of every certificate of `chain` below its root (leaf first).

    Raises Unavailable (with the reason) when a certificate names no CRL, its issuer is not
    at hand, or no fetched CRL is usable; CertificateRevoked when one is revoked."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    pool = [*chain[1:], *anchors]
    anchor_ders = {_der(a) for a in anchors}
    issuers: list[x509.Certificate] = []
    crls: list[x509.CertificateRevocationList] = []
    for cert in chain:
        if _self_signed(cert) or _der(cert) in anchor_ders:
            break
        name = cert.subject.rfc4514_string()
        issuer = _issuer_of(cert, pool)
        if issuer is None:
            raise Unavailable(f"the issuer of {name} is not in the chain or the trust anchors")
        crl = _fetch_crl(cert, issuer, fetch, now)
        revoked = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
        if revoked is not None:
            raise CertificateRevoked(
                f"{name} was revoked on {_iso(revoked.revocation_date_utc)} (its issuer's CRL)"
            )
        if all(_der(issuer) != _der(c) for c in issuers):
            issuers.append(issuer)
        crls.append(crl)
        if len(crls) >= _MAX_VALUES:
            raise Unavailable("the chain is too long")
    if not crls:
        raise Unavailable("a self-signed certificate has no revocation data")
    return ValidationData(issuers, crls)


def _fetch_crl(
    cert: x509.Certificate, issuer: x509.Certificate, fetch: Fetch, now: datetime
) -> x509.CertificateRevocationList:
    name = cert.subject.rfc4514_string()
    urls = crl_urls(cert)
    if not urls:
        raise Unavailable(f"{name} names no CRL distribution point")
    reasons = []
    for url in urls:
        try:
            crl = load_crl(fetch(url))
        except Unavailable as exc:
            reasons.append(f"{url}: {exc}")
            continue
        except Exception as exc:  # the caller's fetch: network, size, time, refusals
            reasons.append(f"{url}: {getattr(exc, 'message', None) or type(exc).__name__}")
            continue
        problem = crl_problem(crl, issuer, now)
        if problem is None:
            return crl
        reasons.append(f"{url}: {problem}")
    raise Unavailable(f"no usable CRL for {name} ({'; '.join(reasons)})")


@dataclass(frozen=True)
class Finding:
    status: str  # ok | warning | error
    message: str


def check_embedded(
    chain: Sequence[x509.Certificate],
    x_vals: object,
    r_vals: object,
    *,
    anchors: Sequence[x509.Certificate] = (),
    at: datetime | None,
) -> list[Finding]:
    """Each certificate below the root against the embedded CRLs, at `at` (the time a
    verified timestamp proves; None: now). Only what the seal carries is used."""
    at = (at or datetime.now(UTC)).astimezone(UTC)
    certs, bad_certs = values(x_vals, "x509Cert", x509.load_der_x509_certificate)
    crls, bad_crls = values(
        r_vals.get("crlVals") if isinstance(r_vals, dict) else None, None, x509.load_der_x509_crl
    )
    findings = []
    if bad_certs or bad_crls:
        findings.append(Finding("error", "an embedded certificate or CRL value does not parse"))
    if isinstance(r_vals, dict) and r_vals.get("ocspVals"):
        findings.append(Finding("warning", "embedded OCSP responses are not checked"))
    pool = [*chain[1:], *certs, *anchors]
    anchor_ders = {_der(a) for a in anchors}
    for cert in chain:
        if _self_signed(cert) or _der(cert) in anchor_ders:
            break
        findings.append(_one(cert, _issuer_of(cert, pool), crls, at))
    return findings


def _one(
    cert: x509.Certificate,
    issuer: x509.Certificate | None,
    crls: list[x509.CertificateRevocationList],
    at: datetime,
) -> Finding:
    name = cert.subject.rfc4514_string()
    if issuer is None:
        return Finding("warning", f"no embedded issuer certificate for {name}")
    usable = [c for c in crls if crl_problem(c, issuer, at) is None]
    if not usable:
        return Finding("warning", f"no embedded CRL vouches for {name} at {_iso(at)}")
    crl = max(usable, key=lambda c: c.last_update_utc)
    revoked = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
    if revoked is not None and revoked.revocation_date_utc <= at:
        return Finding("error", f"{name} was revoked on {_iso(revoked.revocation_date_utc)}")
    return Finding(
        "ok", f"{name} not revoked at {_iso(at)} (embedded CRL of {_iso(crl.last_update_utc)})"
    )


def values(items: object, key: str | None, load: Callable[[bytes], T]) -> tuple[list[T], int]:
    """The DER values of a JAdES list ([{key: {"val": b64}}] or [{"val": b64}]), loaded, and
    how many did not load."""
    found: list[T] = []
    bad = 0
    if not isinstance(items, list):
        return found, 0
    for item in items[:_MAX_VALUES]:
        value = item.get(key) if key and isinstance(item, dict) else item
        text = value.get("val") if isinstance(value, dict) else None
        try:
            found.append(load(base64.b64decode(text, validate=True)))  # type: ignore[arg-type]
        except (ValueError, TypeError):
            bad += 1
    return found, bad


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def _crl_der(crl: x509.CertificateRevocationList) -> bytes:
    return crl.public_bytes(serialization.Encoding.DER)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
