"""The outbound URL guard: every URL an admin or a config hands the desk (rule webhooks, the API
channel's callback_url, images fetched for the inbox's image proxy) goes through here.

The host is resolved and every address it resolves to must be public: loopback, private, link-local,
multicast, reserved, unspecified and shared (CGNAT) addresses are refused, unless the address falls
in [relaydesk] outbound_allowlist (addresses or networks, e.g. ["127.0.0.1", "10.1.0.0/16"]). The
request then goes to the address that was checked (no second lookup a DNS rebinding could answer
differently; TLS still verifies the certificate for the host name), and each redirect is checked the
same way before it is followed.

The desk sets the allow-list when it is built (one desk per process, core.desk)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from typing import Any, Iterable
from urllib.parse import urljoin, urlsplit, urlunsplit

from core.errors import InvalidRequest

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
MAX_REDIRECTS = 3
REDIRECTS = {301, 302, 303, 307, 308}

_allowlist: tuple[Network, ...] = ()


class UrlRefused(InvalidRequest):
    """A URL the desk will not call; the message says why and how to allow it."""

    code = "url_refused"


def parse_allowlist(entries: Iterable[str]) -> tuple[Network, ...]:
    """Addresses and networks as written in the setting; raises ValueError naming a bad entry."""
    out = []
    for entry in entries:
        try:
            out.append(ipaddress.ip_network(str(entry).strip(), strict=False))
        except ValueError:
            raise ValueError(f"{entry!r} is not an IP address or network (e.g. 127.0.0.1 or 10.0.0.0/8)") from None
    return tuple(out)


def configure(entries: Iterable[str]) -> None:
    global _allowlist
    _allowlist = parse_allowlist(entries)


def allowlist() -> tuple[Network, ...]:
    return _allowlist


def refusal(ip: IPAddress) -> str | None:
    """Why the desk does not call `ip` (None: it may)."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip in network for network in _allowlist):
        return None
    for kind, flag in (("a loopback", ip.is_loopback), ("a private", ip.is_private), ("a link-local", ip.is_link_local),
                       ("a multicast", ip.is_multicast), ("an unspecified", ip.is_unspecified),
                       ("a reserved", ip.is_reserved)):
        if flag:
            return f"{ip} is {kind} address"
    if not ip.is_global:
        return f"{ip} is not a public address"
    return None


@dataclass(frozen=True)
class Target:
    url: str
    host: str
    address: str  # the checked address the request goes to


def _split(url: str) -> Any:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UrlRefused(f"{url[:200]!r} is not an http(s) URL")
    if parts.username or parts.password:
        raise UrlRefused(f"{url[:200]!r} carries a user name or password; put credentials in a header or secret")
    try:
        parts.port
    except ValueError:
        raise UrlRefused(f"{url[:200]!r} has an invalid port") from None
    return parts


async def check(url: str) -> Target:
    """Resolve `url`'s host and check every address; raises UrlRefused (a 400 for an admin)."""
    parts = _split(url)
    host = parts.hostname
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise UrlRefused(f"the host {host!r} does not resolve ({exc})") from None
        addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    if not addresses:
        raise UrlRefused(f"the host {host!r} does not resolve")
    for address in addresses:
        reason = refusal(address)
        if reason:
            raise UrlRefused(f"the desk does not call {host!r}: {reason}. Loopback, private, link-local, multicast "
                             "and reserved addresses are refused; list the address in [relaydesk] "
                             "outbound_allowlist to allow it")
    return Target(url=url, host=host, address=str(addresses[0]))


def _pinned(target: Target) -> tuple[str, dict[str, str], dict[str, Any]]:
    """The URL with the checked address in place of the host, the Host header, and TLS's server name."""
    parts = urlsplit(target.url)
    address = f"[{target.address}]" if ":" in target.address else target.address
    netloc = address + (f":{parts.port}" if parts.port else "")
    host_header = parts.netloc.rsplit("@", 1)[-1]
    extensions = {"sni_hostname": target.host} if parts.scheme == "https" else {}
    return urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, "")), {"host": host_header}, extensions


async def request(client: Any, method: str, url: str, *, content: bytes | None = None,
                  headers: dict[str, str] | None = None, max_redirects: int = MAX_REDIRECTS,
                  stream: bool = False) -> Any:
    """Send through an httpx.AsyncClient (which must not follow redirects itself), checking the URL
    and every redirect. With stream=True the final response is open: read it, then aclose() it."""
    for _ in range(max_redirects + 1):
        target = await check(url)
        pinned, host, extensions = _pinned(target)
        built = client.build_request(method, pinned, content=content, headers={**(headers or {}), **host},
                                     extensions=extensions)
        response = await client.send(built, stream=True)
        location = response.headers.get("location")
        if response.status_code not in REDIRECTS or not location:
            if not stream:
                try:
                    await response.aread()
                finally:
                    await response.aclose()
            return response
        await response.aclose()
        url = urljoin(url, location)
        if response.status_code in (301, 302, 303) and method != "HEAD":
            method, content = "GET", None
    raise UrlRefused(f"more than {max_redirects} redirects from {url[:200]!r}")
