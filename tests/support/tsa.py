"""A local RFC 3161 time-stamping authority for tests: an HTTP server answering a
TimeStampReq with a TimeStampResp signed by a TSA certificate made here (cryptography for
keys and certificates, asn1crypto for the CMS structure)."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from asn1crypto import cms, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

POLICY = "1.3.6.1.4.1.99999.1"


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "DE"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test TSA"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


@dataclass
class LocalTsa:
    """The TSA's root and leaf; `clock` decides genTime; `refuse` answers "rejection"."""

    root: x509.Certificate
    leaf: x509.Certificate
    key: rsa.RSAPrivateKey
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    refuse: bool = False
    tamper_imprint: bool = False
    requests: int = 0
    url: str = ""
    serial: int = 1

    @classmethod
    def create(cls) -> LocalTsa:
        now = datetime.now(UTC)
        root_key = rsa.generate_private_key(65537, 2048)
        root = (
            x509.CertificateBuilder()
            .subject_name(_name("Test TSA Root"))
            .issuer_name(_name("Test TSA Root"))
            .public_key(root_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=3650))
            .not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                critical=True,
            )
            .sign(root_key, hashes.SHA256())
        )
        key = rsa.generate_private_key(65537, 2048)
        leaf = (
            x509.CertificateBuilder()
            .subject_name(_name("Test TSA"))
            .issuer_name(root.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=3000))
            .not_valid_after(now + timedelta(days=3000))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(True, True, False, False, False, False, False, False, False),
                critical=True,
            )
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
            )
            .sign(root_key, hashes.SHA256())
        )
        return cls(root=root, leaf=leaf, key=key)

    def respond(self, body: bytes) -> bytes:
        self.requests += 1
        request = tsp.TimeStampReq.load(body)
        if self.refuse:
            status = tsp.PKIStatusInfo({"status": "rejection", "status_string": ["test refusal"]})
            body = status.dump()
            return bytes([0x30, len(body)]) + body  # TimeStampResp without a token
        imprint = request["message_imprint"]
        if self.tamper_imprint:
            imprint = tsp.MessageImprint(
                {"hash_algorithm": {"algorithm": "sha256"}, "hashed_message": b"\0" * 32}
            )
        self.serial += 1
        info = {
            "version": "v1",
            "policy": POLICY,
            "message_imprint": imprint,
            "serial_number": self.serial,
            "gen_time": self.clock().astimezone(UTC).replace(microsecond=0),
        }
        if request["nonce"].native is not None:
            info["nonce"] = request["nonce"].native
        tst_info = tsp.TSTInfo(info)
        return tsp.TimeStampResp(
            {"status": {"status": "granted"}, "time_stamp_token": self._token(tst_info)}
        ).dump()

    def _token(self, tst_info: tsp.TSTInfo) -> cms.ContentInfo:
        leaf_der = self.leaf.public_bytes(serialization.Encoding.DER)
        asn1_leaf = asn1_x509.Certificate.load(leaf_der)
        asn1_root = asn1_x509.Certificate.load(self.root.public_bytes(serialization.Encoding.DER))
        content = tst_info.dump()
        signed_attrs = cms.CMSAttributes(
            [
                {"type": "content_type", "values": ["tst_info"]},
                {"type": "message_digest", "values": [hashlib.sha256(content).digest()]},
                {
                    "type": "signing_certificate_v2",
                    "values": [{"certs": [{"cert_hash": hashlib.sha256(leaf_der).digest()}]}],
                },
            ]
        )
        signature = self.key.sign(signed_attrs.dump(), padding.PKCS1v15(), hashes.SHA256())
        signer = cms.SignerInfo(
            {
                "version": "v1",
                "sid": cms.SignerIdentifier(
                    {
                        "issuer_and_serial_number": {
                            "issuer": asn1_leaf.issuer,
                            "serial_number": asn1_leaf.serial_number,
                        }
                    }
                ),
                "digest_algorithm": {"algorithm": "sha256"},
                "signed_attrs": signed_attrs,
                "signature_algorithm": {"algorithm": "sha256_rsa"},
                "signature": signature,
            }
        )
        signed = cms.SignedData(
            {
                "version": "v3",
                "digest_algorithms": [{"algorithm": "sha256"}],
                "encap_content_info": {"content_type": "tst_info", "content": tst_info},
                "certificates": [asn1_leaf, asn1_root],
                "signer_infos": [signer],
            }
        )
        return cms.ContentInfo({"content_type": "signed_data", "content": signed})


@contextmanager
def running_tsa(tsa: LocalTsa | None = None) -> Iterator[LocalTsa]:
    """Serve `tsa` on 127.0.0.1 (a free port) for the duration of the block."""
    served = tsa or LocalTsa.create()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.headers.get("Content-Type") != "application/timestamp-query":
                self.send_error(415)
                return
            reply = served.respond(body)
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    served.url = f"http://127.0.0.1:{server.server_address[1]}/tsa"
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
