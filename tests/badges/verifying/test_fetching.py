"""The SSRF guards of badges.verifying.fetching, against a real HTTP server on 127.0.0.1.

No test reaches the network: refused URLs are refused before any DNS query or connection,
`localhost` resolves through /etc/hosts, and the one place DNS answers are needed that no
local resolver gives (a public-looking name resolving to a private address) uses a fake
resolver passed to the Fetcher, its documented boundary.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from badges.verifying import Fetcher, FetchPolicy, PinnedDocuments, PinnedDocumentsError
from badges.verifying.fetching import (
    JSON_TYPES,
    FetchError,
    FetchTimeout,
    UrlRefused,
    is_public_address,
)

MAX_BYTES = 4096
HITS: Counter[str] = Counter()


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *_args: object) -> None:
        pass

    def _send(self, status: int, body: bytes, content_type: str, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        HITS[parts.path] += 1
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if parts.path == "/doc.json":
            self._send(200, b'{"ok": true}', "application/json", Content_Length="12")
        elif parts.path == "/host":
            body = json.dumps({"host": self.headers["Host"]}).encode()
            self._send(200, body, "application/json", Content_Length=str(len(body)))
        elif parts.path == "/html":
            self._send(200, b"<html></html>", "text/html")
        elif parts.path == "/declared-big":
            self._send(200, b"{}", "application/json", Content_Length=str(MAX_BYTES + 1))
        elif parts.path == "/streamed-big":
            self._send(200, b"[" + b"0," * MAX_BYTES + b"0]", "application/json")
        elif parts.path == "/gzip":
            self._send(200, b"\x1f\x8b", "application/json", Content_Encoding="gzip")
        elif parts.path == "/redirect":
            self._send(302, b"", "text/plain", Location=query["to"], Content_Length="0")
        elif parts.path == "/loop":
            self._send(302, b"", "text/plain", Location="/loop", Content_Length="0")
        elif parts.path == "/slow":
            time.sleep(2)
            self._send(200, b"{}", "application/json", Content_Length="2")
        else:
            self._send(404, b"", "text/plain", Content_Length="0")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def dev_fetcher(**policy: Any) -> Fetcher:
    return Fetcher(FetchPolicy(allow_http_localhost=True, max_bytes=MAX_BYTES, **policy))


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.215.14", True),
        ("2606:4700:4700::1111", True),
        ("10.0.0.1", False),
        ("172.16.5.4", False),
        ("192.168.1.1", False),
        ("127.0.0.1", False),
        ("169.254.169.254", False),  # cloud metadata
        ("100.64.0.1", False),  # carrier-grade NAT
        ("0.0.0.0", False),
        ("224.0.0.251", False),  # multicast
        ("240.0.0.1", False),  # reserved
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("ff02::1", False),
        ("::ffff:127.0.0.1", False),  # IPv4-mapped
        ("::ffff:10.0.0.1", False),
        ("2002:a00:1::", False),  # 6to4 of 10.0.0.1
        ("64:ff9b::a9fe:a9fe", False),  # NAT64 of 169.254.169.254
    ],
)
def test_public_addresses(address: str, public: bool) -> None:
    assert is_public_address(ipaddress.ip_address(address)) is public


@pytest.mark.parametrize(
    "url",
    [
        "http://example.org/did.json",  # plain http to a public host
        "https://10.0.0.1/did.json",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/did.json",
        "https://[::ffff:127.0.0.1]/did.json",
        "https://0.0.0.0/",
        "https://user:secret@example.org/",
        "ftp://example.org/list",
        "file:///etc/passwd",
        "https:///no-host",
    ],
)
def test_refused_before_any_connection(url: str) -> None:
    with pytest.raises(UrlRefused):
        Fetcher().fetch(url, accept=JSON_TYPES)


def test_a_name_resolving_to_loopback_is_refused() -> None:
    # localhost resolves through /etc/hosts: no network, and the policy says no.
    with pytest.raises(UrlRefused, match="not a public address"):
        Fetcher().fetch("https://localhost/did.json", accept=JSON_TYPES)


@pytest.mark.parametrize(
    "answers",
    [["10.1.2.3"], ["::ffff:192.168.0.7"], ["93.184.215.14", "127.0.0.1"]],
)
def test_a_public_name_with_a_private_answer_is_refused(answers: list[str]) -> None:
    # Fake DNS at the resolver boundary: no local resolver maps a name to these answers.
    calls = []

    def resolver(host: str, port: int) -> list:
        calls.append(host)
        return [ipaddress.ip_address(a) for a in answers]

    with pytest.raises(UrlRefused, match=r"evil\.example resolves to"):
        Fetcher(resolver=resolver).fetch("https://evil.example/did.json", accept=JSON_TYPES)
    assert calls == ["evil.example"]


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/ca.crl",
        "http://169.254.169.254/latest/meta-data/",
        "http://localhost/ca.crl",
        "http://[::1]/ca.crl",
    ],
)
def test_plain_http_for_crls_still_reaches_public_addresses_only(url: str) -> None:
    with pytest.raises(UrlRefused):
        Fetcher(FetchPolicy(allow_plain_http=True)).fetch(url, accept=JSON_TYPES)


def test_plain_http_to_a_public_host_passes_the_url_check_only_when_allowed() -> None:
    def resolver(host: str, port: int) -> list:
        return [ipaddress.ip_address("93.184.215.14")]

    with pytest.raises(UrlRefused, match="only https"):
        Fetcher(resolver=resolver).check_url("http://crl.example/ca.crl")
    Fetcher(FetchPolicy(allow_plain_http=True), resolver=resolver).check_url(
        "http://crl.example/ca.crl"
    )


def test_localhost_http_only_with_the_development_setting(server: str) -> None:
    with pytest.raises(UrlRefused):
        Fetcher().fetch(f"{server}/doc.json", accept=JSON_TYPES)
    fetched = dev_fetcher().fetch(f"{server}/doc.json", accept=JSON_TYPES)
    assert json.loads(fetched.body) == {"ok": True}
    assert (fetched.media_type, fetched.source) == ("application/json", "network")


def test_connects_to_the_vetted_address_and_keeps_the_host_name(server: str) -> None:
    port = urlsplit(server).port
    resolved = []

    def resolver(host: str, port: int) -> list:
        resolved.append(host)
        return [ipaddress.ip_address("127.0.0.1")]

    fetcher = Fetcher(FetchPolicy(allow_http_localhost=True), resolver=resolver)
    fetched = fetcher.fetch(f"http://localhost:{port}/host", accept=JSON_TYPES)
    assert json.loads(fetched.body) == {"host": f"localhost:{port}"}
    assert resolved == ["localhost"]  # resolved once, by us, and that address was used


def test_unexpected_content_type_refused(server: str) -> None:
    with pytest.raises(FetchError, match="text/html"):
        dev_fetcher().fetch(f"{server}/html", accept=JSON_TYPES)


@pytest.mark.parametrize("path", ["/declared-big", "/streamed-big"])
def test_size_cap(server: str, path: str) -> None:
    with pytest.raises(FetchError, match=f"over {MAX_BYTES} bytes"):
        dev_fetcher().fetch(f"{server}{path}", accept=JSON_TYPES)


def test_content_encoding_refused(server: str) -> None:
    with pytest.raises(FetchError, match="content encoding"):
        dev_fetcher().fetch(f"{server}/gzip", accept=JSON_TYPES)


def test_redirects_are_vetted_again(server: str) -> None:
    fetched = dev_fetcher().fetch(f"{server}/redirect?to=/doc.json", accept=JSON_TYPES)
    assert fetched.url == f"{server}/doc.json"
    for target in (
        "https://10.0.0.1/did.json",
        "https://169.254.169.254/",
        "http://example.org/did.json",
        "https://[fd00::1]/",
    ):
        with pytest.raises(UrlRefused):
            dev_fetcher().fetch(f"{server}/redirect?to={target}", accept=JSON_TYPES)


def test_redirect_limit(server: str) -> None:
    with pytest.raises(FetchError, match="more than 3 redirects"):
        dev_fetcher().fetch(f"{server}/loop", accept=JSON_TYPES)


def test_timeout(server: str) -> None:
    with pytest.raises(FetchError, match="timed out"):
        dev_fetcher(timeout_seconds=0.2).fetch(f"{server}/slow", accept=JSON_TYPES)


def test_http_error_status(server: str) -> None:
    with pytest.raises(FetchError, match="HTTP 404"):
        dev_fetcher().fetch(f"{server}/missing", accept=JSON_TYPES)


def test_offline_serves_pinned_documents_only(tmp_path: Path, server: str) -> None:
    (tmp_path / "did.json").write_text('{"id": "did:web:issuer.example"}')
    (tmp_path / "pinned.json").write_text(
        json.dumps({"did:web:issuer.example": "did.json", f"{server}/x": "did.json"})
    )
    pinned = PinnedDocuments.load(tmp_path / "pinned.json")
    fetcher = Fetcher(FetchPolicy(offline=True), pinned=pinned)
    assert pinned.get("did:web:issuer.example#key-1") == b'{"id": "did:web:issuer.example"}'
    fetched = fetcher.fetch(f"{server}/x#fragment", accept=JSON_TYPES)
    assert (fetched.source, fetched.media_type) == ("pinned", "application/json")
    with pytest.raises(FetchError, match="offline"):
        fetcher.fetch("https://issuer.example/did.json", accept=JSON_TYPES)
    with pytest.raises(UrlRefused):  # refused before being looked for
        fetcher.fetch("https://10.0.0.1/did.json", accept=JSON_TYPES)


@pytest.mark.parametrize(
    ("mapping", "match"),
    [
        ({"did:web:a.example": "missing.json"}, "missing"),
        ({"not-a-url": "did.json"}, "neither a DID nor a URL"),
        (["did.json"], "must map"),
    ],
)
def test_pinned_documents_file_is_checked(tmp_path: Path, mapping: object, match: str) -> None:
    (tmp_path / "did.json").write_text("{}")
    (tmp_path / "pinned.json").write_text(json.dumps(mapping))
    with pytest.raises(PinnedDocumentsError, match=match):
        PinnedDocuments.load(tmp_path / "pinned.json")


# --- one deadline per fetch -----------------------------------------------------------------


def _trickling_server(stop: threading.Event, response: bytes, hold_first: int) -> str:
    """A raw socket server: sends the first `hold_first` bytes at once, then one byte every
    0.2 s until the client goes away (or `stop`). No read timeout of 1 s ever fires on it."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            with connection:
                connection.recv(65536)
                try:
                    connection.sendall(response[:hold_first])
                    for byte in response[hold_first:]:
                        if stop.wait(0.2):
                            break
                        connection.sendall(bytes([byte]))
                except OSError:  # the client hung up: what the deadline should do
                    pass
        listener.close()

    threading.Thread(target=serve, daemon=True).start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}"


@pytest.fixture
def trickle() -> Iterator[Callable[[bytes, int], str]]:
    stop = threading.Event()
    yield lambda response, hold_first: _trickling_server(stop, response, hold_first)
    stop.set()


_BODY = b"{" + b" " * 200 + b"}"
_RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
    + b"X-Padding: "
    + b"a" * 200
    + b"\r\n"
    + f"Content-Length: {len(_BODY)}\r\n\r\n".encode()
    + _BODY
)


def test_headers_trickled_a_byte_at_a_time_are_cut_at_the_deadline(trickle: Callable) -> None:
    # Each byte comes well within a 1 s read timeout; only the one deadline can stop it.
    url = trickle(_RESPONSE, 20)
    with pytest.raises(FetchTimeout, match="timed out"):
        dev_fetcher(timeout_seconds=1.0).fetch(f"{url}/doc.json", accept=JSON_TYPES)


def test_a_body_trickled_a_byte_at_a_time_is_cut_at_the_deadline(trickle: Callable) -> None:
    url = trickle(_RESPONSE, len(_RESPONSE) - len(_BODY) + 1)
    with pytest.raises(FetchTimeout, match="timed out"):
        dev_fetcher(timeout_seconds=1.0).fetch(f"{url}/doc.json", accept=JSON_TYPES)


def test_a_caller_may_shorten_the_deadline(trickle: Callable) -> None:
    url = trickle(_RESPONSE, 20)
    with pytest.raises(FetchTimeout):
        dev_fetcher(timeout_seconds=60.0).fetch(f"{url}/doc.json", accept=JSON_TYPES, timeout=0.5)


def test_dns_is_waited_for_only_until_the_deadline() -> None:
    release = threading.Event()

    def hanging_resolver(host: str, port: int) -> list:
        release.wait(30)
        return [ipaddress.ip_address("93.184.215.14")]

    fetcher = Fetcher(FetchPolicy(timeout_seconds=0.5), resolver=hanging_resolver)
    try:
        with pytest.raises(FetchTimeout, match="resolving"):
            fetcher.fetch("https://slow-dns.example/did.json", accept=JSON_TYPES)
    finally:
        release.set()


# --- failures are remembered briefly ----------------------------------------------------------


def test_a_failing_url_is_fetched_once_within_the_ttl(server: str) -> None:
    fetcher = dev_fetcher()
    before = HITS["/missing-once"]
    with pytest.raises(FetchError, match="HTTP 404"):
        fetcher.fetch(f"{server}/missing-once", accept=JSON_TYPES)
    with pytest.raises(FetchError, match=r"HTTP 404.*a moment ago"):
        fetcher.fetch(f"{server}/missing-once#key-1", accept=JSON_TYPES)
    assert HITS["/missing-once"] == before + 1
    # Without the cache (or with another Fetcher), each fetch asks again.
    uncached = dev_fetcher(failure_cache_seconds=0)
    for _ in range(2):
        with pytest.raises(FetchError, match="HTTP 404"):
            uncached.fetch(f"{server}/missing-once", accept=JSON_TYPES)
    assert HITS["/missing-once"] == before + 3


def test_a_fetch_cut_short_by_the_caller_is_not_held_against_the_url(server: str) -> None:
    # (Server hits are no measure here: a request cut at 0.2 s may be counted after it.)
    fetcher = dev_fetcher(timeout_seconds=10.0)
    for _ in range(2):
        with pytest.raises(FetchTimeout) as failure:
            fetcher.fetch(f"{server}/slow", accept=JSON_TYPES, timeout=0.2)
        assert "a moment ago" not in failure.value.message  # tried again, not remembered
    # Its own timeout, though, is the URL's failure: remembered.
    impatient = dev_fetcher(timeout_seconds=0.2)
    with pytest.raises(FetchTimeout):
        impatient.fetch(f"{server}/slow", accept=JSON_TYPES)
    with pytest.raises(FetchTimeout, match="a moment ago"):
        impatient.fetch(f"{server}/slow", accept=JSON_TYPES)
