"""Remote images in customers' HTML: never fetched by the agent's browser.

A remote image (a tracking pixel, say) would tell the sender when the mail was read and from which
address. So when a message is shown its HTML goes through nh3 once more (render) and every remote
<img src> becomes a local placeholder; the agent sees a notice and a per-message "Show images"
action. Shown, each image's src points at this desk's image proxy (/inbox/messages/<id>/images/<n>),
which fetches it server-side: no cookies, no Referer, through the outbound URL guard (core.urlguard:
no loopback, private... addresses, each redirect checked), only raster image types and at most
MAX_BYTES. The proxy only fetches URLs that are in that message's stored HTML, so it is no open proxy.

The same pass drops relative and protocol-relative links (//host/..., /path, backslash tricks): in
the inbox they would point at the desk itself or at a host the sender chose without a scheme.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
from litestar import Request, Response, get
from litestar.response import Template
from markupsafe import Markup

from core import urlguard
from core.errors import NotFound, RelaydeskError
from core.tables import Message
from web.inbox.common import page
from web.sessions import page_guard

PLACEHOLDER = "/static/remote-image.svg"
MAX_BYTES = 5 * 1024 * 1024
TIMEOUT_SECONDS = 10.0
IMAGE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "image/bmp", "image/x-icon",
               "image/vnd.microsoft.icon"}  # no SVG: it can carry script if opened on its own
URL_ATTRIBUTES = {"href", "src", "cite"}
URL_SCHEMES = {"http", "https", "mailto", "tel", "cid"}
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
_STRIP = " \t\r\n\x0c\x00"


class ImageUnavailable(RelaydeskError):
    code = "image_unavailable"
    status_code = 502


class ImageRefused(RelaydeskError):
    code = "image_refused"

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status_code = status


def _absolute_remote(value: str) -> str | None:
    """The URL a browser would fetch for an <img src>, when it is remote; None otherwise."""
    value = value.strip(_STRIP).replace("\\", "/")
    if value.startswith("//"):
        return "https:" + value
    match = _SCHEME.match(value)
    if match and match.group(1).lower() in ("http", "https"):
        return value
    return None


def _relative(value: str) -> bool:
    return not _SCHEME.match(value.strip(_STRIP))


def _clean(html: str, message_id: int, show: bool, found: list[str]) -> str:
    def rewrite(tag: str, attribute: str, value: str) -> str | None:
        if attribute not in URL_ATTRIBUTES:
            return value
        if tag == "img" and attribute == "src":
            remote = _absolute_remote(value)
            if remote is not None:
                found.append(remote)
                return f"/inbox/messages/{message_id}/images/{len(found) - 1}" if show else PLACEHOLDER
        if _relative(value) or value.strip(_STRIP).replace("\\", "/").startswith("//"):
            return None  # relative or protocol-relative: dropped
        return value

    return nh3_clean(html, rewrite)


def nh3_clean(html: str, attribute_filter: Any) -> str:
    import nh3

    return nh3.clean(html, url_schemes=URL_SCHEMES, attribute_filter=attribute_filter, url_relative="pass_through",
                     link_rel="noopener noreferrer nofollow")


def render(html: str | None, message_id: int, show: bool = False) -> tuple[Markup | None, int]:
    """The message's HTML for the inbox and how many remote images it has."""
    if not html:
        return None, 0
    found: list[str] = []
    return Markup(_clean(html, message_id, show, found)), len(found)


def remote_images(html: str | None) -> list[str]:
    found: list[str] = []
    if html:
        _clean(html, 0, False, found)
    return found


async def fetch(url: str) -> tuple[bytes, str]:
    """The image at `url`, through the outbound guard, capped in size and type."""
    headers = {"accept": ", ".join(sorted(IMAGE_TYPES)), "user-agent": "Relaydesk image proxy"}
    async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS, follow_redirects=False) as client:
        try:
            response = await urlguard.request(client, "GET", url, headers=headers, stream=True)
        except httpx.HTTPError as exc:
            raise ImageUnavailable(f"the image could not be fetched: {type(exc).__name__}") from None
        try:
            if response.status_code != 200:
                raise ImageUnavailable(f"the image's server answered {response.status_code}")
            kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if kind not in IMAGE_TYPES:
                raise ImageRefused(f"not an image the desk shows ({kind or 'no type'})", status=415)
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > MAX_BYTES:
                raise ImageRefused(f"the image is larger than {MAX_BYTES // 1024 // 1024} MB", status=413)
            data = bytearray()
            async for chunk in response.aiter_bytes():
                data += chunk
                if len(data) > MAX_BYTES:
                    raise ImageRefused(f"the image is larger than {MAX_BYTES // 1024 // 1024} MB", status=413)
            return bytes(data), kind
        except httpx.HTTPError as exc:
            raise ImageUnavailable(f"the image could not be fetched: {type(exc).__name__}") from None
        finally:
            await response.aclose()


PROXY_HEADERS = {"cache-control": "private, max-age=3600", "x-content-type-options": "nosniff",
                 "content-security-policy": "default-src 'none'; sandbox", "referrer-policy": "no-referrer",
                 "content-disposition": "inline"}


@get("/inbox/messages/{message_id:int}/images/{index:int}", include_in_schema=False, guards=[page_guard("readonly")])
async def image_proxy(message_id: int, index: int) -> Response:
    row = await Message.select(Message.html).where(Message.id == message_id).first()
    urls = remote_images(row["html"]) if row else []
    if not 0 <= index < len(urls):
        raise NotFound("no such image in this message")
    try:
        data, kind = await fetch(urls[index])
    except urlguard.UrlRefused as exc:
        return Response(exc.message, status_code=403, media_type="text/plain", headers=PROXY_HEADERS)
    except RelaydeskError as exc:
        return Response(exc.message, status_code=exc.status_code, media_type="text/plain", headers=PROXY_HEADERS)
    return Response(data, media_type=kind, headers=PROXY_HEADERS)


@get("/inbox/messages/{message_id:int}/body", include_in_schema=False, guards=[page_guard("readonly")])
async def message_body(request: Request, message_id: int, images: bool = False) -> Template:
    """One message's body, its remote images through the proxy when asked ("Show images")."""
    row = await Message.select(Message.id, Message.ticket, Message.text, Message.html).where(
        Message.id == message_id).first()
    if row is None:
        raise NotFound(f"message {message_id} does not exist")
    row["safe_html"], row["remote_images"] = render(row["html"], message_id, show=images)
    row["images_shown"] = images
    return await page(request, "ticket/_message_body.html", m=row)


ROUTES = [image_proxy, message_body]
