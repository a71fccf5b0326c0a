"""Who is on the other end: the peer's address, or, when the peer is a proxy the admin trusts
([relaydesk] trusted_proxies), the address that proxy says it forwarded for.

X-Forwarded-For is read right to left: each trusted proxy appends the address it received from, so
the first address from the right that is not a trusted proxy is the client; anything left of it was
written by the client and proves nothing. Without trusted proxies the header is ignored entirely.
uvicorn must not rewrite the peer itself (relaydesk serve starts it with proxy_headers=False)."""

from __future__ import annotations

import ipaddress
from typing import Any

from core.urlguard import parse_allowlist


def _trusted(address: str, networks: tuple[Any, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(request: Any, trusted_proxies: list[str]) -> str:
    peer = request.client.host if request.client else "unknown"
    networks = parse_allowlist(trusted_proxies) if trusted_proxies else ()
    if not networks or not _trusted(peer, networks):
        return peer
    hops = [h.strip() for value in request.headers.getall("x-forwarded-for", []) for h in value.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, networks):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # a proxy we trust wrote something that is no address: do not believe it
    return peer
