"""The widget's routes, all under /webchat/<account>/:

  widget.js      the loader a store puts in one script tag: a button that opens the frame
  frame          the chat itself, a page of the desk shown in an iframe (so it talks to the desk
                 same-origin: no CORS, no cookie); its CSP names the sites that may embed it
  frame.js       the frame's script
  challenge      a proof-of-work challenge (guard.py)
  start          pre-chat fields + first message -> a ticket through the webchat channel
  messages       a later message of the same conversation
  events         server-sent events: the conversation's messages, the agent's replies as they go out

The conversation's key (random, kept in the frame's sessionStorage) is the visitor's capability;
the desk stores only its sha256. Every answer is JSON with a clear 4xx for bad input.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import secrets
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, AsyncIterator

import msgspec
from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Request, Response, get, post
from litestar.response import File, ServerSentEvent

from core.plugin_api import InvalidRequest, NotFound, RelaydeskError
from core.plugin_api import ingest
from core.plugin_api import Message
from core.plugin_api import InboundMessage
from plugins.webchat import guard, stats
from plugins.webchat.tables import WebchatSession
from web.plugin_api import i18n
from web.plugin_api import client_address

STATIC = Path(__file__).parent / "static"
_env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape(default=True))
_ = i18n.translator(Path(__file__).parent / "translations")
MAX_TEXT = 5000
_EMAIL = re.compile(r"^[^@\s<>]{1,64}@[^@\s<>]{1,190}\.[^@\s<>]{2,}$")


class TooMany(RelaydeskError):
    status_code = 429
    code = "rate_limited"


class StartIn(msgspec.Struct, forbid_unknown_fields=True):
    challenge: str
    nonce: str
    text: str
    name: str = ""
    email: str = ""
    order: str = ""
    language: str = "en"
    website: str = ""  # the honeypot: people never see it


class MessageIn(msgspec.Struct, forbid_unknown_fields=True):
    key: str
    text: str


def _account(request: Request, name: str) -> Any:
    account = request.app.state.desk.registry.account("webchat", name)
    if account is None:
        raise NotFound(f"no webchat account {name!r}")
    return account


def _key(request: Request) -> bytes:
    secret = request.app.state.desk.settings.secret or "relaydesk-webchat"
    return hashlib.sha256(f"webchat:{secret}".encode()).digest()


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _language(account: Any, wanted: str) -> str:
    code = (wanted or "").lower().replace("_", "-")
    for candidate in (code, code.split("-")[0]):
        if candidate in account.settings.languages:
            return candidate
    return account.settings.languages[0]


def _decode(raw: bytes, kind: type) -> Any:
    try:
        return msgspec.json.decode(raw, type=kind)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise InvalidRequest(f"the body does not match: {exc}") from None


def _text(value: str) -> str:
    text = value.replace("\x00", "").strip()
    if not text:
        raise InvalidRequest("write a message first")
    if len(text) > MAX_TEXT:
        raise InvalidRequest(f"a message is at most {MAX_TEXT} characters")
    return text


@get("/webchat/{account_name:str}/widget.js", include_in_schema=False)
async def widget_js(request: Request, account_name: str) -> File:
    _account(request, account_name)
    return File(path=STATIC / "widget.js", media_type="text/javascript", content_disposition_type="inline",
                headers={"cache-control": "public, max-age=300", "access-control-allow-origin": "*",
                         "cross-origin-resource-policy": "cross-origin"})


@get("/webchat/{account_name:str}/frame.js", include_in_schema=False)
async def frame_js(request: Request, account_name: str) -> File:
    _account(request, account_name)
    return File(path=STATIC / "frame.js", media_type="text/javascript", content_disposition_type="inline",
                headers={"cache-control": "public, max-age=300"})


@get("/webchat/{account_name:str}/frame", include_in_schema=False)
async def frame(request: Request, account_name: str, lang: str = "") -> Response:
    account = _account(request, account_name)
    language = _language(account, lang)
    t = (lambda message: _(message, language))
    settings = account.settings
    html = _env.get_template("frame.html").render(
        _=t, language=language, account=account_name, help_brand=settings.help_brand, pow_bits=settings.pow_bits,
        color=settings.color if re.fullmatch(r"#[0-9a-fA-F]{3,6}", settings.color) else "#1f6feb")
    stats.record("opened", account.id)
    ancestors = " ".join(settings.allowed_origins) or "'self'"
    policy = ("default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; "
              f"form-action 'none'; base-uri 'none'; frame-ancestors {ancestors}")
    return Response(html, media_type="text/html; charset=utf-8",
                    headers={"content-security-policy": policy, "cache-control": "no-store",
                             "referrer-policy": "no-referrer"})


@get("/webchat/{account_name:str}/frame.css", include_in_schema=False)
async def frame_css(request: Request, account_name: str) -> File:
    _account(request, account_name)
    return File(path=STATIC / "frame.css", media_type="text/css", content_disposition_type="inline",
                headers={"cache-control": "public, max-age=300"})


@get("/webchat/{account_name:str}/challenge", include_in_schema=False)
async def get_challenge(request: Request, account_name: str) -> dict[str, Any]:
    account = _account(request, account_name)
    return {"challenge": guard.challenge(_key(request), account.settings.pow_bits), "bits": account.settings.pow_bits}


@post("/webchat/{account_name:str}/start", include_in_schema=False, opt={"exclude_from_csrf": True}, status_code=201)
async def start(request: Request, account_name: str) -> dict[str, Any]:
    """The visitor's first message: pre-chat fields link the customer (email, unverified) and order."""
    account = _account(request, account_name)
    desk = request.app.state.desk
    data = _decode(await request.body(), StartIn)
    address = client_address(request, desk.settings.trusted_proxies)
    if data.website:  # a bot filled the honeypot: answer like a success, store nothing
        return {"key": secrets.token_urlsafe(24), "language": _language(account, data.language)}
    if not guard.allow(f"start:{account.name}", address, account.settings.conversations_per_hour, 3600):
        raise TooMany("too many conversations from this address; try again later")
    problem = guard.check(_key(request), account.settings.pow_bits, data.challenge, data.nonce)
    if problem:
        raise InvalidRequest(problem)
    text = _text(data.text)
    email = data.email.strip()
    if email and not _EMAIL.fullmatch(email):
        raise InvalidRequest("the email address does not look right")
    name, order = data.name.strip()[:200], re.sub(r"[^\w#-]", "", data.order)[:64]
    key = secrets.token_urlsafe(24)
    digest = _hash(key)
    handle = f"wc-{digest[:24]}"
    language = _language(account, data.language)
    results = await ingest(desk, account, [InboundMessage(
        external_id=f"{handle}:1", sender_handle=handle, sender_name=name or None, sender_email=email or None,
        text=text, thread_key=handle, order_ids=[order.lstrip("#")] if order else [], language=language,
        subject=text[:80])])
    customer = None
    if results:
        row = await Message.select(Message.customer).where(Message.id == results[0].message_id).first()
        customer = row["customer"] if row else None
    await WebchatSession.insert(WebchatSession(key_hash=digest, account=account.id, handle=handle, customer=customer,
                                               ticket=results[0].ticket_id if results else None, email=email,
                                               language=language, sent=1))
    stats.record("started", account.id)
    return {"key": key, "language": language}


async def _session(account: Any, key: str) -> dict[str, Any]:
    if not key or len(key) > 100:
        raise InvalidRequest("the conversation key is missing")
    row = await WebchatSession.select().where((WebchatSession.key_hash == _hash(key))
                                              & (WebchatSession.account == account.id)).first()
    if row is None:
        raise NotFound("no such conversation")
    return row


@post("/webchat/{account_name:str}/messages", include_in_schema=False, opt={"exclude_from_csrf": True},
      status_code=201)
async def send(request: Request, account_name: str) -> dict[str, Any]:
    account = _account(request, account_name)
    desk = request.app.state.desk
    data = _decode(await request.body(), MessageIn)
    session = await _session(account, data.key)
    address = client_address(request, desk.settings.trusted_proxies)
    if not guard.allow(f"msg:{account.name}", address, account.settings.messages_per_minute, 60):
        raise TooMany("too many messages; wait a moment")
    text = _text(data.text)
    # one atomic increment numbers the message: two sends at once never share an external id
    # (which ingest would take for a replay and drop)
    counted = await WebchatSession.update({WebchatSession.sent: WebchatSession.sent + 1,
                                           WebchatSession.last_seen: datetime.now(timezone.utc)}
                                          ).where(WebchatSession.id == session["id"]).returning(WebchatSession.sent)
    number = counted[0]["sent"]
    await ingest(desk, account, [InboundMessage(external_id=f"{session['handle']}:{number}",
                                                sender_handle=session["handle"], text=text,
                                                thread_key=session["handle"], language=session["language"])])
    return {"sent": number}


def _event(row: dict[str, Any]) -> str:
    return json.dumps({"id": row["id"], "from": "you" if row["direction"] == "inbound" else "agent",
                       "text": row["text"], "at": row["created_at"].isoformat()}, ensure_ascii=False)


@get("/webchat/{account_name:str}/events", include_in_schema=False)
async def events(request: Request, account_name: str, key: str = "") -> ServerSentEvent:
    """The conversation so far, then each new message as it is stored (an agent's reply is stored
    before its delivery job runs, so it shows here at once). Polls the database once a second: any
    web process can serve any visitor, and the visitor's presence (last_seen) tells the channel
    whether to follow up by email."""
    account = _account(request, account_name)
    session = await _session(account, key)
    address = client_address(request, request.app.state.desk.settings.trusted_proxies)
    if not guard.allow(f"events:{account.name}", address, 30, 60):  # reconnects are a few a minute
        raise TooMany("too many connections; wait a moment")
    after = int(request.headers.get("last-event-id") or 0) if (request.headers.get("last-event-id") or "").isdigit() else 0

    async def stream() -> AsyncIterator[dict[str, Any]]:
        nonlocal after
        beat = 0
        while True:
            tickets = [r["ticket"] for r in await Message.select(Message.ticket).where(
                (Message.customer == session["customer"]) & (Message.account == account.id)
                & (Message.direction == "inbound")).distinct()]
            rows = await Message.select(Message.id, Message.direction, Message.text, Message.created_at).where(
                Message.ticket.is_in(tickets or [0]) & (Message.id > after)
                & Message.direction.is_in(["inbound", "outbound"])
            ).order_by(Message.id).limit(100)
            for row in rows:
                after = row["id"]
                yield {"data": _event(row), "id": str(row["id"]), "event": "message"}
            if beat % 15 == 0:
                await WebchatSession.update({WebchatSession.last_seen: datetime.now(timezone.utc)}).where(
                    WebchatSession.id == session["id"])
            beat += 1
            await asyncio.sleep(1.0)

    return ServerSentEvent(stream(), headers={"cache-control": "no-store", "x-accel-buffering": "no"})


ROUTES = [widget_js, frame_js, frame_css, frame, get_challenge, start, send, events]
