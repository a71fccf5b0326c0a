"""The desk's id: made once by migration core_0007 and read at start. It makes every outbound
idempotency key unique across desks and across a database reset (docs/api-channel.md)."""

from __future__ import annotations

import re
import secrets

from core.tables import DeskIdentity


async def load_desk_id() -> str:
    """The desk's id; a new one when the row is gone (someone emptied the table by hand)."""
    row = await _first()
    if row is None:
        await DeskIdentity.insert(DeskIdentity(desk_id=secrets.token_hex(8))).run()
        row = await _first()  # two processes racing here both read the same (oldest) row
    return row["desk_id"]


async def _first() -> dict | None:
    return await DeskIdentity.select(DeskIdentity.desk_id).order_by(DeskIdentity.created_at).order_by(
        DeskIdentity.desk_id).first()


def message_key(desk_id: str, message_id: int) -> str:
    """The idempotency key of one reply: the same on every attempt, different on every desk."""
    return f"relaydesk-{desk_id}-msg-{message_id}"


# Before desks had ids, keys read relaydesk-msg-<message id>; platforms still echo them back for
# replies sent then.
_LEGACY_KEY = re.compile(r"relaydesk-msg-\d+")


def is_own_key(key: str | None, desk_id: str) -> bool:
    """Is `key` (a platform's echo of what we attached to a send) the key of a reply this desk sent?
    Another desk's key is not: that desk's reply, seen by this one, is a message like any other."""
    if not key:
        return False
    if _LEGACY_KEY.fullmatch(key):
        return True
    prefix = f"relaydesk-{desk_id}-msg-"
    return bool(desk_id) and key.startswith(prefix) and key[len(prefix):].isdigit()
