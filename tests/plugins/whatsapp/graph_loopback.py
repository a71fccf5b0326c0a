"""A loopback Graph API on 127.0.0.1 that speaks what the Meta plugins use, as Meta documents it:

- POST /{version}/{phone-number-id}/messages -> {"messaging_product", "contacts": [{"input", "wa_id"}],
  "messages": [{"id": "wamid..."}]}
- POST /{version}/{page-id|me}/messages (Messenger/Instagram Send API) -> {"recipient_id", "message_id"}
- POST /{version}/{phone-number-id}/media (multipart: messaging_product=whatsapp, type, file) -> {"id"};
  the file is kept in `uploads` under that id
- GET /{version}/{media-id} -> {"messaging_product", "url", "mime_type", "sha256", "file_size", "id"}
- GET the media URL with the same bearer token -> the bytes
- GET /{version}/{waba-id}/message_templates?limit=&after= -> {"data": [...], "paging": {"cursors":
  {"before", "after"}, "next"}} (``next`` only when another page follows, as Graph pages)
- a template send (type "template") is checked against ``templates`` when any are set: an unknown
  name/language or one not APPROVED gets 132001, a body parameter count that differs from the
  body's variables gets 132000 (Meta's "WhatsApp error codes" page)
- GET /{version}/{psid|igsid}?fields=... (User Profile API) -> the asked fields that are set, and "id"
- errors as {"error": {"message", "type", "code", "error_subcode", "error_data", "fbtrace_id"}}

A request without the expected bearer token gets Graph's OAuth error (code 190).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.loopback import HttpFake, Reply


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Part:
    """One part of a multipart/form-data body."""

    filename: str | None
    content_type: str
    data: bytes


def form_parts(call: Call) -> dict[str, Part]:
    """A multipart/form-data body's parts by field name (a body of another type has none)."""
    from email.parser import BytesParser
    from email.policy import HTTP

    content_type = call.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        return {}
    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + call.body)
    out: dict[str, Part] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name:
            out[str(name)] = Part(part.get_filename(), part.get_content_type(), part.get_payload(decode=True) or b"")
    return out


@dataclass
class Failure:
    """Answer the next request whose path contains `match` with this Graph error."""

    match: str
    status: int
    code: int
    message: str
    subcode: int | None = None
    details: str | None = None
    is_transient: bool | None = None


def graph_error(status: int, code: int, message: str, subcode: int | None = None, details: str | None = None,
                is_transient: bool | None = None) -> tuple[int, dict[str, Any]]:
    error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEfGh123"}
    if subcode is not None:
        error["error_subcode"] = subcode
    if details is not None:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    if is_transient is not None:
        error["is_transient"] = is_transient
    return status, {"error": error}


@dataclass
class GraphLoopback(HttpFake):
    token: str
    version: str = "v21.0"
    calls: list[Call] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    templates: list[dict[str, Any]] = field(default_factory=list)
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)  # scoped user id -> profile fields
    template_page_size: int = 100  # at most this many templates a page, whatever `limit` asks
    uploads: dict[str, "Part"] = field(default_factory=dict)  # media id -> the uploaded file

    def __post_init__(self) -> None:
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        super().__init__()
    def respond(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Reply | None:
        parsed = urlparse(path)
        status, payload, content_type = self._answer(Call(method, parsed.path, parse_qs(parsed.query), headers, body))
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        return status, data, {"content-type": content_type}

    def sends(self) -> list[Call]:
        return [c for c in self.calls if c.method == "POST" and c.path.endswith("/messages")]

    def add_media(self, media_id: str, data: bytes, mime_type: str) -> None:
        self.media[media_id] = (data, mime_type)

    # --- routing ------------------------------------------------------------------------------

    def _answer(self, call: Call) -> tuple[int, Any, str]:
        with self._lock:
            self.calls.append(call)
            if call.headers.get("authorization") != f"Bearer {self.token}":
                return (*graph_error(401, 190, "Invalid OAuth access token - Cannot parse access token"), "application/json")
            for failure in self.failures:
                if failure.match in call.path:
                    self.failures.remove(failure)
                    status, body = graph_error(failure.status, failure.code, failure.message, failure.subcode,
                                               failure.details, failure.is_transient)
                    return status, body, "application/json"
            n = next(self._ids)
        parts = call.path.strip("/").split("/")
        if parts[0] == "cdn":
            data, mime = self.media.get(parts[1], (None, ""))
            if data is None:
                return 404, {"error": {"message": "not found", "code": 100}}, "application/json"
            return 200, data, mime
        if parts[0] != self.version:
            return (*graph_error(400, 2500, f"Unknown path components: /{parts[0]}"), "application/json")
        if call.method == "POST" and parts[-1] == "messages":
            answer = self._send(call, parts[1], n)
            if isinstance(answer, tuple):  # a refused template: (status, Graph error)
                return (*answer, "application/json")
            return 200, answer, "application/json"
        if call.method == "POST" and parts[-1] == "media":
            form = form_parts(call)
            if "file" not in form or form.get("messaging_product", Part(None, "", b"")).data != b"whatsapp":
                return (*graph_error(400, 100, "(#100) The parameter messaging_product is required."), "application/json")
            self.uploads[f"upl{n}"] = form["file"]
            return 200, {"id": f"upl{n}"}, "application/json"
        if call.method == "GET" and parts[-1] == "message_templates":
            return 200, self._template_page(call), "application/json"
        if call.method == "GET" and len(parts) == 2 and parts[1] in self.profiles:
            asked = (call.query.get("fields") or [""])[0].split(",")
            profile = self.profiles[parts[1]]
            return 200, {"id": parts[1], **{k: profile[k] for k in asked if k in profile}}, "application/json"
        if call.method == "GET" and len(parts) == 2:
            data, mime = self.media.get(parts[1], (None, ""))
            if data is None:
                return (*graph_error(400, 100, "Unsupported get request. Object does not exist"), "application/json")
            return 200, {"messaging_product": "whatsapp", "url": f"{self.url}/cdn/{parts[1]}", "mime_type": mime,
                         "sha256": hashlib.sha256(data).hexdigest(), "file_size": str(len(data)), "id": parts[1]}, "application/json"
        return (*graph_error(400, 100, "Unsupported request"), "application/json")

    def _template_page(self, call: Call) -> dict[str, Any]:
        asked = int((call.query.get("limit") or ["25"])[0])
        size = max(1, min(asked, self.template_page_size))
        start = int((call.query.get("after") or ["0"])[0].removeprefix("CUR"))
        chunk = self.templates[start:start + size]
        paging: dict[str, Any] = {"cursors": {"before": f"CUR{start}", "after": f"CUR{start + len(chunk)}"}}
        if start + size < len(self.templates):
            paging["next"] = f"https://graph.facebook.com{call.path}?after=CUR{start + len(chunk)}&limit={size}"
        return {"data": chunk, "paging": paging}

    def _check_template(self, template: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
        import re

        name, code = template.get("name"), (template.get("language") or {}).get("code")
        known = next((t for t in self.templates if t.get("name") == name and t.get("language") == code
                      and t.get("status") == "APPROVED"), None)
        if known is None:
            return graph_error(404, 132001, "(#132001) Template name does not exist in the translation",
                               details=f"template name ({name}) does not exist in {code}")
        body = next((c.get("text", "") for c in known.get("components", []) if c.get("type") == "BODY"), "")
        expected = len(set(re.findall(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}", body)))
        given = sum(len(c.get("parameters") or []) for c in template.get("components") or [] if c.get("type") == "body")
        if given != expected:
            return graph_error(400, 132000, "(#132000) Number of parameters does not match the expected number of params",
                               details=f"body: number of localizable_params ({given}) does not match the expected number of params ({expected})")
        return None

    def _send(self, call: Call, node: str, n: int) -> Any:
        content_type = call.headers.get("content-type", "")
        if content_type.startswith("application/json"):
            body = call.json()
        else:  # multipart (Messenger/Instagram upload and send in one call): JSON fields as form parts
            body = {}
            for name, part in form_parts(call).items():
                if name != "filedata":
                    try:
                        body[name] = json.loads(part.data)
                    except ValueError:
                        body[name] = part.data.decode("utf-8", "replace")
        if body.get("messaging_product") == "whatsapp" and body.get("type") == "template" and self.templates:
            refused = self._check_template(body.get("template") or {})
            if refused is not None:
                return refused
        if body.get("messaging_product") == "whatsapp":
            return {"messaging_product": "whatsapp", "contacts": [{"input": body.get("to"), "wa_id": body.get("to")}],
                    "messages": [{"id": f"wamid.LOOPBACK{n}"}]}
        recipient = (body.get("recipient") or {}).get("id", "")
        return {"recipient_id": recipient, "message_id": f"m_LOOPBACK{n}"}
