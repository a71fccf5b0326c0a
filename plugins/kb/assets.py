"""The editor's front-end files (Quill, installed by npm under web/node_modules, and our small
kb-editor.js) and article images: a supervisor uploads an image from the editor, it is stored under
the desk's data_dir by its sha256, and served to everyone (help center pages show it)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.response import File

from core.plugin_api import InvalidRequest, NotFound, PayloadTooLarge
from web.plugin_api import NODE_MODULES
from web.plugin_api import page_guard

ASSETS = {
    "quill.js": (NODE_MODULES / "quill" / "dist" / "quill.js", "text/javascript"),
    "quill.snow.css": (NODE_MODULES / "quill" / "dist" / "quill.snow.css", "text/css"),
    "kb-editor.js": (Path(__file__).parent / "static" / "kb-editor.js", "text/javascript"),
}
MAX_IMAGE = 5_000_000
# magic bytes -> (extension, content type): the file's content decides, never its name
_IMAGE_TYPES = ((b"\x89PNG\r\n\x1a\n", "png", "image/png"), (b"\xff\xd8\xff", "jpg", "image/jpeg"),
                (b"GIF87a", "gif", "image/gif"), (b"GIF89a", "gif", "image/gif"))
_TYPES = {"png": "image/png", "jpg": "image/jpeg", "gif": "image/gif", "webp": "image/webp"}


@get("/inbox/kb/assets/{name:str}", include_in_schema=False, guards=[page_guard("readonly")])
async def kb_asset(name: str) -> File:
    found = ASSETS.get(name)
    if found is None or not found[0].is_file():
        raise NotFound("no such file")
    return File(path=found[0], media_type=found[1], content_disposition_type="inline",
                headers={"cache-control": "private, max-age=3600"})


def _folder(request: Request) -> Path:
    return Path(request.app.state.desk.settings.data_dir) / "kb-images"


def image_kind(data: bytes) -> tuple[str, str] | None:
    for magic, extension, content_type in _IMAGE_TYPES:
        if data.startswith(magic):
            return extension, content_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp", "image/webp"
    return None


def store_image(data_dir: str, data: bytes) -> str:
    """Keep an uploaded image (PNG, JPEG, GIF, WebP; the content decides) under data_dir by its
    sha256 and return its public URL."""
    if len(data) > MAX_IMAGE:
        raise PayloadTooLarge(f"an image is at most {MAX_IMAGE // 1_000_000} MB")
    kind = image_kind(data)
    if kind is None:
        raise InvalidRequest("only PNG, JPEG, GIF and WebP images")
    name = f"{hashlib.sha256(data).hexdigest()}.{kind[0]}"
    folder = Path(data_dir) / "kb-images"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    if not target.exists():
        partial = folder / f".{name}.part"
        partial.write_bytes(data)
        partial.replace(target)
    return f"/help/images/{name}"


async def read_upload(request: Request) -> bytes:
    form = await request.form()
    upload = form.get("image")
    if not isinstance(upload, UploadFile):
        raise InvalidRequest("send the image as the multipart field 'image'")
    return await upload.read(MAX_IMAGE + 1)


@post("/inbox/kb/images", include_in_schema=False, guards=[page_guard("supervisor")], status_code=201)
async def kb_image_upload(request: Request) -> dict[str, str]:
    """A multipart field "image" -> {"url": "/help/images/<sha256>.<ext>"}, from the editor."""
    return {"url": store_image(request.app.state.desk.settings.data_dir, await read_upload(request))}


@get("/help/images/{name:str}", include_in_schema=False)
async def kb_image(request: Request, name: str) -> File:
    stem, _, extension = name.partition(".")
    if len(stem) != 64 or any(c not in "0123456789abcdef" for c in stem) or extension not in _TYPES:
        raise NotFound("no such image")
    path = _folder(request) / name
    if not path.is_file():
        raise NotFound("no such image")
    return File(path=path, media_type=_TYPES[extension], content_disposition_type="inline",
                headers={"cache-control": "public, max-age=31536000, immutable",
                         "content-security-policy": "default-src 'none'; sandbox"})
