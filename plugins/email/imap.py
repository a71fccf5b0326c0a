"""Fetch new mail over IMAP (aioimaplib) behind a per-folder UID cursor.

The cursor is JSON kept by the core as the account's poll cursor:
``{"v": 1, "folders": {"INBOX": {"validity": 1795456813, "uid": 42}}}``: the highest UID of each
folder already handed to the core, valid only while the folder's UIDVALIDITY stays the same. The
core saves it after the batch has committed, so a crash refetches the batch (ingest dedupes on the
Message-ID) and never skips one. When UIDVALIDITY changes (the folder was rebuilt) the folder is
read again from the start: the dedupe keeps that from storing anything twice.
"""

from __future__ import annotations

import json
import logging
import re
import ssl
from dataclasses import dataclass, field
from typing import Any

from core.plugin_api import ChannelError

from .settings import EmailAccountSettings, server_url

log = logging.getLogger("relaydesk.email.imap")

_FETCH_START = re.compile(rb"^\d+ FETCH \(")
_UID = re.compile(rb"\bUID (\d+)")
_LITERAL = re.compile(rb"\{(\d+)\}\s*$")
_UIDVALIDITY = re.compile(rb"\[UIDVALIDITY (\d+)\]")


@dataclass(slots=True)
class FolderCursor:
    validity: int
    uid: int


@dataclass(slots=True)
class Cursor:
    folders: dict[str, FolderCursor] = field(default_factory=dict)

    @classmethod
    def load(cls, text: str | None) -> "Cursor":
        if not text:
            return cls()
        try:
            data = json.loads(text)
            return cls({name: FolderCursor(int(v["validity"]), int(v["uid"]))
                        for name, v in (data.get("folders") or {}).items()})
        except (ValueError, TypeError, KeyError, AttributeError):
            # A cursor we cannot read (written by something else): start over; ingest dedupes.
            log.warning("unreadable IMAP cursor %r; reading the folders from the start", text[:200])
            return cls()

    def dump(self) -> str:
        return json.dumps({"v": 1, "folders": {name: {"validity": c.validity, "uid": c.uid}
                                               for name, c in sorted(self.folders.items())}},
                          separators=(",", ":"))


@dataclass(slots=True)
class Fetched:
    folder: str
    uid: int
    raw: bytes


def tls_context(settings: EmailAccountSettings) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    if settings.tls_ca_file:
        context.load_verify_locations(cafile=settings.tls_ca_file)
    return context


def imap_quote(name: str) -> str:
    """An IMAP quoted string (folder names may hold spaces)."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


class ImapSession:
    """One logged-in IMAP connection. Use as ``async with ImapSession(settings) as imap``."""

    def __init__(self, settings: EmailAccountSettings) -> None:
        self.settings = settings
        self.client: Any = None

    async def __aenter__(self) -> "ImapSession":
        await self.connect()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    async def connect(self) -> None:
        import aioimaplib

        s = self.settings
        url = server_url(s.imap_url or "", ("imap", "imaps"))
        try:
            if url.implicit_tls:
                self.client = aioimaplib.IMAP4_SSL(host=url.host, port=url.port, timeout=s.timeout_seconds,
                                                   ssl_context=tls_context(s))
            else:
                self.client = aioimaplib.IMAP4(host=url.host, port=url.port, timeout=s.timeout_seconds)
            await self.client.wait_hello_from_server()
            if not url.implicit_tls and s.imap_starttls:
                await self._starttls(url.host)
            response = await self.client.login(imap_quote(s.username or ""), s.password or "")
        except ChannelError:
            raise
        except Exception as exc:  # noqa: BLE001 - refused, DNS, TLS handshake, timeout
            raise ChannelError(f"cannot reach the IMAP server {url.host}:{url.port}: {type(exc).__name__}: {exc}",
                               retryable=True) from None
        if response.result != "OK":
            raise ChannelError(f"the IMAP server refused the login for {s.username}: {_text(response)}",
                               retryable=True, platform_code=response.result)

    async def _starttls(self, host: str) -> None:
        """STARTTLS on a plain connection: aioimaplib has no helper, so upgrade the transport."""
        import asyncio

        from aioimaplib import Command

        protocol = self.client.protocol
        if "STARTTLS" not in protocol.capabilities:
            raise ChannelError(f"the IMAP server {host} does not offer STARTTLS; use imaps:// or set "
                               "imap_starttls = false on a trusted network", retryable=False)
        response = await protocol.execute(Command("STARTTLS", protocol.new_tag(), loop=protocol.loop))
        if response.result != "OK":
            raise ChannelError(f"STARTTLS failed: {_text(response)}", retryable=True)
        loop = asyncio.get_running_loop()
        transport = await loop.start_tls(protocol.transport, protocol, tls_context(self.settings),
                                         server_hostname=host)
        protocol.transport = transport
        await protocol.capability()  # RFC 3501: capabilities may change after STARTTLS

    async def close(self) -> None:
        if self.client is None:
            return
        try:
            await self.client.logout()
        except Exception:  # noqa: BLE001 - the connection may already be gone
            pass
        self.client = None

    def has_idle(self) -> bool:
        return "IDLE" in self.client.protocol.capabilities

    async def select(self, folder: str) -> int:
        """Select a folder; returns its UIDVALIDITY."""
        response = await self.client.select(imap_quote(folder))
        if response.result != "OK":
            raise ChannelError(f"cannot open IMAP folder {folder!r}: {_text(response)}", retryable=True,
                               platform_code=response.result)
        for line in response.lines:
            m = _UIDVALIDITY.search(bytes(line))
            if m:
                return int(m.group(1))
        raise ChannelError(f"the IMAP server sent no UIDVALIDITY for {folder!r}", retryable=True)

    async def new_uids(self, after: int) -> list[int]:
        """UIDs above `after` in the selected folder, ascending."""
        response = await self.client.uid_search(f"UID {after + 1}:*", charset=None)
        if response.result != "OK":
            raise ChannelError(f"IMAP UID SEARCH failed: {_text(response)}", retryable=True)
        uids: set[int] = set()
        for line in response.lines:
            text = bytes(line)
            if text.startswith(b"SEARCH") or re.fullmatch(rb"[\d ]+", text.strip() or b"x"):
                uids.update(int(n) for n in re.findall(rb"\d+", text))
        # "n:*" always matches the highest UID, even when it is below n.
        return sorted(u for u in uids if u > after)

    async def fetch(self, folder: str, uids: list[int]) -> list[Fetched]:
        """The raw bytes of these messages (BODY.PEEK: the \\Seen flag stays as it is)."""
        if not uids:
            return []
        response = await self.client.uid("fetch", ",".join(map(str, uids)), "(UID BODY.PEEK[])")
        if response.result != "OK":
            raise ChannelError(f"IMAP UID FETCH failed: {_text(response)}", retryable=True)
        found = parse_fetch(response.lines)
        wanted = set(uids)
        return [Fetched(folder, uid, raw) for uid, raw in sorted(found.items()) if uid in wanted]


def parse_fetch(lines: list[Any]) -> dict[int, bytes]:
    """UID -> body from aioimaplib's FETCH lines: a start line ending in {size}, then the literal
    as a bytearray, then the rest of the item (where some servers put the UID)."""
    out: dict[int, bytes] = {}
    uid: int | None = None
    body: bytes | None = None

    def flush() -> None:
        if uid is not None and body is not None:
            out[uid] = body

    for line in lines:
        if isinstance(line, bytearray):
            body = bytes(line)
            continue
        text = bytes(line)
        if _FETCH_START.match(text):
            flush()
            uid, body = None, None
        m = _UID.search(text)
        if m:
            uid = int(m.group(1))
    flush()
    return out


def _text(response: Any) -> str:
    lines = [bytes(line).decode("utf-8", "replace") for line in response.lines if not isinstance(line, bytearray)]
    return (" ".join(lines) or response.result)[:300]


async def fetch_new(settings: EmailAccountSettings, cursor_text: str | None) -> tuple[list[Fetched], str]:
    """Everything new in the account's folders (at most poll_batch messages) and the cursor after them."""
    cursor = Cursor.load(cursor_text)
    out: list[Fetched] = []
    budget = settings.poll_batch
    async with ImapSession(settings) as imap:
        for folder in settings.folders:
            if budget <= 0:
                break
            validity = await imap.select(folder)
            known = cursor.folders.get(folder)
            if known is None or known.validity != validity:
                if known is not None:
                    log.warning("UIDVALIDITY of %s changed (%s -> %s): reading it again; duplicates are dropped",
                                folder, known.validity, validity)
                known = cursor.folders[folder] = FolderCursor(validity, 0)
            uids = (await imap.new_uids(known.uid))[:budget]
            for start in range(0, len(uids), 25):
                batch = await imap.fetch(folder, uids[start:start + 25])
                out.extend(batch)
            if uids:
                # Advance to the last UID asked for even if the server no longer has it (expunged
                # meanwhile): it cannot come back, and waiting for it would stall the folder.
                known.uid = uids[-1]
            budget -= len(uids)
    return out, cursor.dump()
