"""A local certificate authority for e-seal tests: a root CA whose seal certificates name a
CRL distribution point on an HTTP server the test runs itself (127.0.0.1), and whose CRL
can revoke them."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

_SEAL_USAGE = x509.KeyUsage(
    digital_signature=True, content_commitment=True, key_encipherment=False,
    data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
    encipher_only=False, decipher_only=False,
)  # fmt: skip


@dataclass
class LocalCa:
    key: ec.EllipticCurvePrivateKey
    root: x509.Certificate
    url: str = ""  # the CRL's URL once served
    revoked: dict[int, datetime] = field(default_factory=dict)
    requests: int = 0
    next_update: timedelta = timedelta(days=7)

    @classmethod
    def create(cls) -> LocalCa:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test QTSP CA")])
        now = datetime.now(UTC)
        root = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(1)
            .not_valid_before(now - timedelta(days=30))
            .not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(key, hashes.SHA256())
        )
        return cls(key, root)

    def seal_certificate(
        self, *, crl_url: str | None = None, organisation_identifier: str = "VATDE-123456789"
    ) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
        """An e-seal certificate naming `crl_url` (default: this CA's served CRL)."""
        key = rsa.generate_private_key(65537, 2048)
        now = datetime.now(UTC)
        builder = (
            x509.CertificateBuilder()
            .subject_name(
                x509.Name(
                    [
                        x509.NameAttribute(NameOID.COUNTRY_NAME, "DE"),
                        x509.NameAttribute(
                            NameOID.ORGANIZATION_IDENTIFIER, organisation_identifier
                        ),
                        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Volt Academy GmbH"),
                        x509.NameAttribute(NameOID.COMMON_NAME, "Volt Academy seal"),
                    ]
                )
            )
            .issuer_name(self.root.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=365))
            .add_extension(_SEAL_USAGE, critical=True)
        )
        url = crl_url if crl_url is not None else self.url
        if url:
            point = x509.DistributionPoint(
                full_name=[x509.UniformResourceIdentifier(url)],
                relative_name=None,
                reasons=None,
                crl_issuer=None,
            )
            builder = builder.add_extension(x509.CRLDistributionPoints([point]), critical=False)
        return builder.sign(self.key, hashes.SHA256()), key

    def crl(self) -> bytes:
        now = datetime.now(UTC)
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.root.subject)
            .last_update(now - timedelta(minutes=5))
            .next_update(now + self.next_update)
        )
        for serial, when in self.revoked.items():
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when).build()
            )
        return builder.sign(self.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


@contextmanager
def serving_crl(
    ca: LocalCa | None = None, *, media_type: str = "application/pkix-crl"
) -> Iterator[LocalCa]:
    """The CA's CRL at http://127.0.0.1:PORT/ca.crl while the block runs."""
    served = ca or LocalCa.create()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            served.requests += 1
            if self.path != "/ca.crl":
                self.send_error(404)
                return
            body = served.crl()
            self.send_response(200)
            self.send_header("Content-Type", media_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    served.url = f"http://127.0.0.1:{server.server_address[1]}/ca.crl"
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()
