"""SSRF-safe fetching of what verification needs, and operator-pinned local copies.

A verifier fetches URLs chosen by whoever wrote the credential: DID documents, controller
documents, status lists, the credential itself. Unguarded, that is a request-forgery tool
(`https://169.254.169.254/…`, a name resolving to 10.0.0.5, a redirect to localhost). So:

- https only; http only to localhost, and only when the operator allows it (development);
- the host name is resolved here and every address must be public (IPv4 and IPv6, with
  IPv4 embedded in IPv6 unwrapped); the connection goes to the vetted address while TLS SNI
  and Host keep the name, so DNS cannot answer differently between the check and the use;
- redirects are followed by hand, each target vetted again, at most three;
- timeouts per operation and an overall deadline; the body is streamed and cut at a cap;
  no content encoding is accepted (a gzip bomb would inflate before the cap saw it);
- content types other than the expected ones (an HTML error page, say) are refused.

`PinnedDocuments` (the operator's `SKILLSHUB_PINNED_DOCUMENTS`) maps a DID or an https URL to a
local file that is used instead of fetching: air-gapped verifiers, and tests.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from catalogue.errors import DomainError

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
AddressResolver = Callable[[str, int], list[IpAddress]]

JSON_TYPES = frozenset(
    {
        "application/json",
        "application/ld+json",
        "application/did+json",
        "application/did+ld+json",
        "application/vc+ld+json",
        "application/vc",
        # Static hosts (raw file servers) label JSON as text; the body is parsed strictly anyway.
        "text/plain",
    }
)
JWT_TYPES = frozenset(
    {"application/jwt", "application/vc+jwt", "application/vc+ld+jwt", "text/plain"}
)
IMAGE_TYPES = frozenset({"image/png", "image/svg+xml"})

MAX_REDIRECTS = 3
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_USER_AGENT = "SkillsHub-Verifier/1"


class FetchError(DomainError):
    """A document could not be fetched (network, HTTP status, size, type, timeout)."""

    code = "fetch_failed"
    status_code = 422


class UrlRefused(FetchError):
    """The URL or an address it resolves to is not one this verifier may contact."""

    code = "url_refused"


class PinnedDocumentsError(ValueError):
    """The operator's pinned-documents file is malformed or names a missing file."""


@dataclass(frozen=True)
class FetchPolicy:
    allow_http_localhost: bool = False
    timeout_seconds: float = 5.0
    max_bytes: int = 2 * 1024 * 1024
    offline: bool = False


@dataclass(frozen=True)
class Fetched:
    url: str
    media_type: str
    body: bytes
    source: str  # "network" | "pinned"


# --- addresses ---------------------------------------------------------------------------


def _embedded_ipv4(ip: IpAddress) -> ipaddress.IPv4Address | None:
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public_address(ip: IpAddress) -> bool:
    """True for a globally routable unicast address (and any IPv4 it embeds)."""
    embedded = _embedded_ipv4(ip)
    if embedded is not None and not is_public_address(embedded):
        return False
    return ip.is_global and not (
        ip.is_multicast
        or ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_unspecified
    )


def system_resolver(host: str, port: int) -> list[IpAddress]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    # Strip an IPv6 zone id ("fe80::1%eth0"); link-local is refused anyway.
    addresses = (ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos)
    return list(dict.fromkeys(addresses))


# --- pinned documents ----------------------------------------------------------------------


class PinnedDocuments:
    """Local files standing in for DIDs and https URLs (keys without a fragment)."""

    def __init__(self, files: Mapping[str, Path]) -> None:
        self._files = {key.partition("#")[0]: Path(path) for key, path in files.items()}

    @classmethod
    def load(cls, path: Path) -> PinnedDocuments:
        """Read the JSON map `{"did:web:…" | "https://…": "file path"}`; paths are relative
        to the map's own folder. Every file must exist (a typo should fail at start-up)."""
        try:
            mapping = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise PinnedDocumentsError(f"cannot read pinned documents {path}: {exc}") from None
        if not isinstance(mapping, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()
        ):
            raise PinnedDocumentsError(f"{path} must map DIDs or URLs to file paths")
        files = {key: path.parent / value for key, value in mapping.items()}
        for key, file in files.items():
            if not key.startswith(("did:", "https://", "http://")):
                raise PinnedDocumentsError(f"pinned key {key!r} is neither a DID nor a URL")
            if not file.is_file():
                raise PinnedDocumentsError(f"pinned document for {key!r} is missing: {file}")
        return cls(files)

    def get(self, key: str) -> bytes | None:
        file = self._files.get(key.partition("#")[0])
        if file is None:
            return None
        try:
            return file.read_bytes()
        except OSError:
            raise FetchError(f"the pinned document {file.name} cannot be read") from None


def _sniff_media_type(body: bytes) -> str:
    head = body.lstrip()[:1]
    if body.startswith(b"\x89PNG"):
        return "image/png"
    if head == b"<":
        return "image/svg+xml"
    return "application/json" if head in (b"{", b"[") else "application/jwt"


# --- the fetcher -----------------------------------------------------------------------------


class Fetcher:
    """Fetches one document at a time under a `FetchPolicy`; pinned documents come first."""

    def __init__(
        self,
        policy: FetchPolicy | None = None,
        *,
        pinned: PinnedDocuments | None = None,
        resolver: AddressResolver = system_resolver,
    ) -> None:
        self.policy = policy or FetchPolicy()
        self.pinned = pinned
        self._resolve = resolver

    def pinned_document(self, key: str) -> bytes | None:
        return self.pinned.get(key) if self.pinned is not None else None

    def fetch(self, url: str, *, accept: Iterable[str]) -> Fetched:
        """The document at `url` (a pinned copy if there is one). Raises FetchError/UrlRefused."""
        url = url.partition("#")[0]
        pinned = self.pinned_document(url)
        if pinned is not None:
            return Fetched(url, _sniff_media_type(pinned), pinned, "pinned")
        self.check_url(url)
        if self.policy.offline:
            raise FetchError(
                f"{_host_of(url)}: not among the pinned documents, and this verifier is offline"
            )
        return self._fetch_network(url, frozenset(accept))

    def check_url(self, url: str) -> None:
        """Refuse what no fetch may touch, before any DNS query or connection."""
        try:
            parts = urlsplit(url)
            host = parts.hostname
            parts.port  # noqa: B018 - raises ValueError on a malformed port
        except ValueError:
            raise UrlRefused("the URL is malformed") from None
        if parts.username is not None or parts.password is not None:
            raise UrlRefused("URLs with user information are refused")
        if not host:
            raise UrlRefused("the URL has no host")
        local = host in LOCAL_HOSTS and self.policy.allow_http_localhost
        if parts.scheme == "http" and not local:
            raise UrlRefused(f"{host}: only https URLs are fetched")
        if parts.scheme not in ("http", "https"):
            raise UrlRefused(f"{parts.scheme!r} URLs are not fetched; only https")
        try:
            literal = ipaddress.ip_address(host)
        except ValueError:
            return
        self._vet_addresses(host, [literal])

    def _vet_addresses(self, host: str, addresses: list[IpAddress]) -> None:
        local = host in LOCAL_HOSTS and self.policy.allow_http_localhost
        for ip in addresses:
            allowed = ip.is_loopback if local else is_public_address(ip)
            if not allowed:
                where = host if str(ip) == host else f"{host} resolves to {ip}, which"
                raise UrlRefused(f"{where} is not a public address")

    def vetted_addresses(self, host: str, port: int) -> list[str]:
        """The addresses to connect to: every address of `host` must pass the policy."""
        try:
            addresses: list[IpAddress] = [ipaddress.ip_address(host)]
        except ValueError:
            try:
                addresses = self._resolve(host, port)
            except (OSError, UnicodeError):
                raise FetchError(f"{host}: the name does not resolve") from None
        if not addresses:
            raise FetchError(f"{host}: the name does not resolve")
        self._vet_addresses(host, addresses)
        return [str(ip) for ip in addresses]

    def _fetch_network(self, url: str, accept: frozenset[str]) -> Fetched:
        policy = self.policy
        deadline = time.monotonic() + 3 * policy.timeout_seconds
        headers = {
            "Accept": ", ".join(sorted(accept)),
            "Accept-Encoding": "identity",
            "User-Agent": _USER_AGENT,
        }
        current = url
        with httpx.Client(
            transport=_VettedTransport(self.vetted_addresses),
            timeout=httpx.Timeout(policy.timeout_seconds),
            follow_redirects=False,
            trust_env=False,
        ) as client:
            for _hop in range(MAX_REDIRECTS + 1):
                self.check_url(current)
                host = _host_of(current)
                try:
                    with client.stream("GET", current, headers=headers) as response:
                        if response.is_redirect:
                            location = response.headers.get("location")
                            if not location:
                                raise FetchError(f"{host}: a redirect without a Location")
                            current = urljoin(current, location)
                            continue
                        return self._accept(current, response, accept, deadline)
                except httpx.TimeoutException:
                    raise FetchError(f"{host}: timed out") from None
                except httpx.HTTPError as exc:
                    raise FetchError(f"{host}: {type(exc).__name__}") from None
        raise FetchError(f"{_host_of(url)}: more than {MAX_REDIRECTS} redirects")

    def _accept(
        self, url: str, response: httpx.Response, accept: frozenset[str], deadline: float
    ) -> Fetched:
        host = _host_of(url)
        if response.status_code == 404:
            raise FetchError(
                f"{host} answered HTTP 404: the link is wrong, or the badge there is not public"
            )
        if response.status_code != 200:
            raise FetchError(f"{host}: HTTP {response.status_code}")
        media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type not in accept:
            raise FetchError(f"{host}: unexpected content type {media_type or '(none)'!r}")
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("", "identity"):
            raise FetchError(f"{host}: content encoding {encoding!r} refused")
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.policy.max_bytes:
            raise FetchError(f"{host}: the document is over {self.policy.max_bytes} bytes")
        body = bytearray()
        for chunk in response.iter_raw():
            body += chunk
            if len(body) > self.policy.max_bytes:
                raise FetchError(f"{host}: the document is over {self.policy.max_bytes} bytes")
            if time.monotonic() > deadline:
                raise FetchError(f"{host}: timed out")
        return Fetched(url, media_type, bytes(body), "network")


def _host_of(url: str) -> str:
    # Messages name the host only: a URL's path or query may carry secrets.
    try:
        return urlsplit(url).hostname or "(no host)"
    except ValueError:
        return "(malformed URL)"


class _VettingBackend(httpcore.NetworkBackend):
    """Connects to the vetted addresses of the host httpcore asks for (SNI keeps the name)."""

    def __init__(self, vet: Callable[[str, int], list[str]]) -> None:
        self._vet = vet
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        failure: Exception = FetchError(f"{host}: the name does not resolve")
        for address in self._vet(host, port):
            try:
                return self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        raise failure

    def connect_unix_socket(self, *_args: object, **_kwargs: object) -> httpcore.NetworkStream:
        raise UrlRefused("unix sockets are not fetched")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _VettedTransport(httpx.HTTPTransport):
    def __init__(self, vet: Callable[[str, int], list[str]]) -> None:
        super().__init__(trust_env=False)
        # httpx has no public hook for the network backend; the pool is all it builds.
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            network_backend=_VettingBackend(vet),
            max_connections=1,
        )
