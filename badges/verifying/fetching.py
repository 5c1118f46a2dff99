"""SSRF-safe fetching of what verification needs, and operator-pinned local copies.

A verifier fetches URLs chosen by whoever wrote the credential: DID documents, controller
documents, status lists, the credential itself. Unguarded, that is a request-forgery tool
(`https://169.254.169.254/…`, a name resolving to 10.0.0.5, a redirect to localhost). So:

- https only; http only to localhost, and only when the operator allows it (development);
- the host name is resolved here and every address must be public (IPv4 and IPv6, with
  IPv4 embedded in IPv6 unwrapped); the connection goes to the vetted address while TLS SNI
  and Host keep the name, so DNS cannot answer differently between the check and the use;
- redirects are followed by hand, each target vetted again, at most three;
- ONE deadline per fetch covers DNS (resolved in a worker thread, waited for until the
  deadline), connecting, TLS, the request, headers and body: every socket operation gets the
  time left, so a server trickling a byte a second is cut at the deadline. A caller with a
  budget of its own (a verification) may shorten it;
- the body is streamed and cut at a cap; no content encoding is accepted (a gzip bomb would
  inflate before the cap saw it);
- content types other than the expected ones (an HTML error page, say) are refused;
- a URL that failed is remembered for a minute (a small TTL cache): a hostile URL repeated
  across requests does not cost a full timeout each time.

`PinnedDocuments` (the operator's `SKILLSHUB_PINNED_DOCUMENTS`) maps a DID or an https URL to a
local file that is used instead of fetching: air-gapped verifiers, and tests.
"""

from __future__ import annotations

import ipaddress
import json
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx
from cachetools import TTLCache

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
CRL_TYPES = frozenset(
    {"application/pkix-crl", "application/x-pkcs7-crl", "application/octet-stream"}
)

MAX_REDIRECTS = 3
MAX_URL_CHARS = 2048
# A host as httpx sends it (IDNA-encoded; an IPv6 literal without brackets).
_HOST_CHARS = re.compile(r"[A-Za-z0-9._:-]*")
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_USER_AGENT = "SkillsHub-Verifier/1"
_FAILURE_CACHE_SIZE = 1024
# getaddrinfo has no timeout: it runs here, and the fetch waits for it only until its deadline.
# A few threads: a resolver that hangs ties up one of them, never a verifier thread.
_DNS_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="fetch-dns")


class FetchError(DomainError):
    """A document could not be fetched (network, HTTP status, size, type, timeout)."""

    code = "fetch_failed"


class FetchTimeout(FetchError):
    """The fetch did not complete before its deadline."""


class UrlRefused(FetchError):
    """The URL or an address it resolves to is not one this verifier may contact."""

    code = "url_refused"


class PinnedDocumentsError(ValueError):
    """The operator's pinned-documents file is malformed or names a missing file."""


@dataclass(frozen=True)
class FetchPolicy:
    allow_http_localhost: bool = False
    # Plain http to public addresses: only for objects signed in themselves (CRLs, whose
    # distribution points are http by custom), never for what TLS alone vouches for.
    allow_plain_http: bool = False
    timeout_seconds: float = 5.0  # the whole fetch: DNS, connect, headers, body, redirects
    max_bytes: int = 2 * 1024 * 1024
    offline: bool = False
    failure_cache_seconds: float = 60.0  # 0: every fetch of a failing URL tries again


@dataclass(frozen=True)
class Fetched:
    url: str
    media_type: str
    body: bytes
    source: str  # "network" | "pinned" | "local" (this deployment's database)


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


class DocumentFetcher(Protocol):
    """What key resolution and status checks fetch through (a Fetcher, or one verification's
    budgeted view of it)."""

    def fetch(self, url: str, *, accept: Iterable[str]) -> Fetched: ...

    def pinned_document(self, key: str) -> bytes | None: ...


class LocalSource(Protocol):
    """Documents this deployment answers for itself (resolving.DatabaseDocuments)."""

    def owns(self, identifier: str) -> bool: ...

    def fetch(self, url: str, *, accept: Iterable[str]) -> Fetched: ...


class LocalFirst:
    """A fetcher that answers URLs under this deployment's BASE_URL from its database, in any
    scheme (http://127.0.0.1:8000 included), and hands every other URL to `inner` under the
    usual rules: the exception is for our own documents only, never for other hosts."""

    def __init__(self, inner: DocumentFetcher, local: LocalSource | None) -> None:
        self.inner = inner
        self.local = local

    def pinned_document(self, key: str) -> bytes | None:
        return self.inner.pinned_document(key)

    def fetch(self, url: str, *, accept: Iterable[str]) -> Fetched:
        if self.local is not None and self.local.owns(url):
            return self.local.fetch(url, accept=accept)
        return self.inner.fetch(url, accept=accept)


class _FailureCache:
    """Recent failures by URL (thread-safe; shared by every verification of a Fetcher)."""

    def __init__(self, seconds: float) -> None:
        self._cache: TTLCache | None = (
            TTLCache(maxsize=_FAILURE_CACHE_SIZE, ttl=seconds, timer=time.monotonic)
            if seconds > 0
            else None
        )
        self._lock = threading.Lock()

    def get(self, url: str) -> FetchError | None:
        if self._cache is None:
            return None
        with self._lock:
            return self._cache.get(url)

    def put(self, url: str, error: FetchError) -> None:
        if self._cache is not None:
            with self._lock:
                self._cache[url] = error


class Fetcher:
    """Fetches documents under a `FetchPolicy`; pinned documents come first. Thread-safe: each
    fetch has its own connection."""

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
        self._failures = _FailureCache(self.policy.failure_cache_seconds)

    def pinned_document(self, key: str) -> bytes | None:
        return self.pinned.get(key) if self.pinned is not None else None

    def fetch(self, url: str, *, accept: Iterable[str], timeout: float | None = None) -> Fetched:
        """The document at `url` (a pinned copy if there is one). Raises FetchError/UrlRefused.

        The fetch takes at most the policy's timeout, or `timeout` when that is shorter."""
        url = url.partition("#")[0]
        pinned = self.pinned_document(url)
        if pinned is not None:
            return Fetched(url, _sniff_media_type(pinned), pinned, "pinned")
        self.check_url(url)
        if self.policy.offline:
            raise FetchError(
                f"{_host_of(url)}: not among the pinned documents, and this verifier is offline"
            )
        failed = self._failures.get(url)
        if failed is not None:
            raise type(failed)(
                f"{failed.message} (a moment ago; not tried again for "
                f"{self.policy.failure_cache_seconds:g} s)"
            )
        shortened = timeout is not None and timeout < self.policy.timeout_seconds
        limit = timeout if timeout is not None and shortened else self.policy.timeout_seconds
        deadline = time.monotonic() + limit
        try:
            return self._fetch_network(url, frozenset(accept), deadline)
        except FetchTimeout:
            # Cut short by the caller's budget, the URL may be fine: do not hold it against it.
            if not shortened:
                self._failures.put(url, FetchTimeout(f"{_host_of(url)}: timed out"))
            raise
        except FetchError as exc:
            self._failures.put(url, exc)
            raise

    def check_url(self, url: str) -> None:
        """Refuse what no fetch may touch, before any DNS query or connection."""
        if len(url) > MAX_URL_CHARS:
            raise UrlRefused(f"the URL is longer than {MAX_URL_CHARS} characters")
        try:
            parts = urlsplit(url)
            host = parts.hostname
            parts.port  # noqa: B018 - raises ValueError on a malformed port
            # httpx parses again, more strictly ("0177.0.0.1", IDNA: `.host` decodes an
            # A-label): refuse here what it would raise later, outside a fetch's errors.
            parsed = httpx.URL(url)
            parsed.host  # noqa: B018
        except (ValueError, httpx.InvalidURL):  # IDNAError is a UnicodeError, a ValueError
            raise UrlRefused("the URL is malformed") from None
        if not _HOST_CHARS.fullmatch(parsed.raw_host.decode("ascii", "replace")):
            raise UrlRefused("the URL's host name is malformed")  # "exa mple.com", "a%00b"
        if parts.username is not None or parts.password is not None:
            raise UrlRefused("URLs with user information are refused")
        if not host:
            raise UrlRefused("the URL has no host")
        local = host in LOCAL_HOSTS and self.policy.allow_http_localhost
        if parts.scheme == "http" and not (local or self.policy.allow_plain_http):
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

    def vetted_addresses(self, host: str, port: int, deadline: float | None = None) -> list[str]:
        """The addresses to connect to: every address of `host` must pass the policy. With a
        `deadline` (time.monotonic), DNS is waited for until then."""
        try:
            addresses: list[IpAddress] = [ipaddress.ip_address(host)]
        except ValueError:
            try:
                if deadline is None:
                    addresses = self._resolve(host, port)
                else:
                    answer = _DNS_POOL.submit(self._resolve, host, port)
                    addresses = answer.result(timeout=max(0.0, deadline - time.monotonic()))
            except FutureTimeout:
                raise FetchTimeout(f"{host}: timed out resolving the name") from None
            except (OSError, UnicodeError):
                raise FetchError(f"{host}: the name does not resolve") from None
        if not addresses:
            raise FetchError(f"{host}: the name does not resolve")
        self._vet_addresses(host, addresses)
        return [str(ip) for ip in addresses]

    def _fetch_network(self, url: str, accept: frozenset[str], deadline: float) -> Fetched:
        headers = {
            "Accept": ", ".join(sorted(accept)),
            "Accept-Encoding": "identity",
            "User-Agent": _USER_AGENT,
        }
        current = url

        def vet(host: str, port: int) -> list[str]:
            return self.vetted_addresses(host, port, deadline)

        with httpx.Client(
            transport=_VettedTransport(vet, deadline),
            follow_redirects=False,
            trust_env=False,
        ) as client:
            for _hop in range(MAX_REDIRECTS + 1):
                self.check_url(current)
                host = _host_of(current)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise FetchTimeout(f"{host}: timed out")
                try:
                    # Each socket operation also gets at most the time left (_DeadlineStream).
                    timeout = httpx.Timeout(left)
                    with client.stream(
                        "GET", current, headers=headers, timeout=timeout
                    ) as response:
                        if response.is_redirect:
                            location = response.headers.get("location")
                            if not location:
                                raise FetchError(f"{host}: a redirect without a Location")
                            current = urljoin(current, location)
                            continue
                        return self._accept(current, response, accept, deadline)
                except httpx.TimeoutException:
                    raise FetchTimeout(f"{host}: timed out") from None
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
        # ASCII only ("²".isdigit() is True); more than 18 digits is over any cap.
        digits = declared.isascii() and declared.isdigit()
        if digits and (len(declared) > 18 or int(declared) > self.policy.max_bytes):
            raise FetchError(f"{host}: the document is over {self.policy.max_bytes} bytes")
        body = bytearray()
        for chunk in response.iter_raw():
            body += chunk
            if len(body) > self.policy.max_bytes:
                raise FetchError(f"{host}: the document is over {self.policy.max_bytes} bytes")
            if time.monotonic() > deadline:
                raise FetchTimeout(f"{host}: timed out")
        return Fetched(url, media_type, bytes(body), "network")


def _host_of(url: str) -> str:
    # Messages name the host only: a URL's path or query may carry secrets.
    try:
        return urlsplit(url).hostname or "(no host)"
    except ValueError:
        return "(malformed URL)"


def _time_left(deadline: float, timeout: float | None, error: type[Exception]) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise error("the fetch deadline passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read and write ends by the fetch's deadline: httpx's timeouts
    are per operation, so a server sending a header byte a second never tripped them."""

    def __init__(self, inner: httpcore.NetworkStream, deadline: float) -> None:
        self._inner = inner
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(
            max_bytes, _time_left(self._deadline, timeout, httpcore.ReadTimeout)
        )

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _time_left(self._deadline, timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        left = _time_left(self._deadline, timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(
            self._inner.start_tls(ssl_context, server_hostname, left), self._deadline
        )

    def get_extra_info(self, info: str) -> object:
        return self._inner.get_extra_info(info)


class _VettingBackend(httpcore.NetworkBackend):
    """Connects to the vetted addresses of the host httpcore asks for (SNI keeps the name),
    all within the fetch's deadline."""

    def __init__(self, vet: Callable[[str, int], list[str]], deadline: float) -> None:
        self._vet = vet
        self._deadline = deadline
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
                left = _time_left(self._deadline, timeout, httpcore.ConnectTimeout)
                stream = self._inner.connect_tcp(address, port, left, local_address, socket_options)
                return _DeadlineStream(stream, self._deadline)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        raise failure

    def connect_unix_socket(self, *_args: object, **_kwargs: object) -> httpcore.NetworkStream:
        raise UrlRefused("unix sockets are not fetched")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _VettedTransport(httpx.HTTPTransport):
    def __init__(self, vet: Callable[[str, int], list[str]], deadline: float) -> None:
        super().__init__(trust_env=False)
        # httpx has no public hook for the network backend; the pool is all it builds.
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            network_backend=_VettingBackend(vet, deadline),
            max_connections=1,
        )
