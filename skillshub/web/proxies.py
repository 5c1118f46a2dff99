"""The client's address and scheme behind reverse proxies (SKILLSHUB_TRUSTED_PROXIES).

Forwarded headers are anybody's to write: they are read only when the socket's peer is a
trusted proxy, and then only as far back as the chain stays trusted. Walking the hops from
the nearest (rightmost) back, the client is the first address that is not a trusted proxy:
a client that sends its own `X-Forwarded-For: 1.2.3.4` only adds a hop further left, which
the walk never reaches. The RFC 7239 `Forwarded` header wins over the X-Forwarded-* pair when
both are present. The scheme is the nearest proxy's `proto`.

Everything that asks for the client (`request.client`: rate limits, the audit log, console
sessions) and the scheme (`request.url`) sees the result; uvicorn's own proxy handling is
switched off (`skillshub serve` passes `proxy_headers=False`), since it would trust
127.0.0.1 whatever this setting says.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _address(value: str) -> Address | None:
    """An address from a hop: `192.0.2.1`, `192.0.2.1:8080`, `"[2001:db8::1]:4711"`;
    None for `unknown`, an obfuscated `_name` or garbage."""
    value = value.strip().strip('"').strip()
    if value.startswith("["):
        value = value[1:].partition("]")[0]
    elif value.count(":") == 1:
        value = value.partition(":")[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _forwarded(values: list[str]) -> tuple[list[str], list[str]]:
    """RFC 7239: the `for` and `proto` of every element, in order (several header lines
    count as one comma-separated list)."""
    hops: list[str] = []
    protos: list[str] = []
    for element in ",".join(values).split(","):
        pairs = {}
        for pair in element.split(";"):
            name, _, value = pair.partition("=")
            pairs[name.strip().lower()] = value.strip().strip('"')
        if "for" in pairs:
            hops.append(pairs["for"])
        if pairs.get("proto"):
            protos.append(pairs["proto"].lower())
    return hops, protos


class TrustedProxies:
    def __init__(self, app: ASGIApp, trusted: Iterable[str] = ()) -> None:
        self.app = app
        self.trusted: tuple[Network, ...] = tuple(
            ipaddress.ip_network(item, strict=False) for item in trusted
        )

    def _is_trusted(self, address: Address | None) -> bool:
        return address is not None and any(address in network for network in self.trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and self.trusted and scope.get("client"):
            self._rewrite(scope)
        await self.app(scope, receive, send)

    def _rewrite(self, scope: Scope) -> None:
        peer = _address(str(scope["client"][0]))
        if not self._is_trusted(peer):
            return
        headers: dict[str, list[str]] = {}
        for name, value in scope["headers"]:
            headers.setdefault(name.decode("latin-1").lower(), []).append(value.decode("latin-1"))
        if "forwarded" in headers:
            hops, protos = _forwarded(headers["forwarded"])
        else:
            hops = [h for v in headers.get("x-forwarded-for", []) for h in v.split(",")]
            protos = [
                p.strip().lower()
                for v in headers.get("x-forwarded-proto", [])
                for p in v.split(",")
            ]
        client = peer
        for hop in reversed(hops):
            address = _address(hop)
            if address is None:
                break  # "unknown" or hidden: the last trusted hop is as far as we can tell
            client = address
            if not self._is_trusted(address):
                break
        if client != peer:
            scope["client"] = (str(client), 0)
        if protos and protos[-1] in ("http", "https"):
            scope["scheme"] = (
                protos[-1] if scope["type"] == "http" else {"http": "ws"}.get(protos[-1], "wss")
            )
