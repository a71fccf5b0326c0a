"""The desk's own mail to its agents (invitations, password resets), through the `desk_mail` hook.

The core sends no mail itself: a plugin with outgoing mail (the email plugin's SMTP account) offers
a sender. Without one, callers show the link to the admin instead.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Awaitable, Callable

from core.errors import ChannelError

if TYPE_CHECKING:
    from core.desk import Desk

log = logging.getLogger("relaydesk.desk_mail")
Sender = Callable[[str, str, str], Awaitable[Any]]


def sender(desk: "Desk") -> Sender | None:
    return desk.registry.hook.desk_mail(desk=desk)


def available(desk: "Desk") -> bool:
    return sender(desk) is not None


async def send(desk: "Desk", to: str, subject: str, text: str) -> str | None:
    """Mail `text` to `to`; None when it went out, else why not (for the admin, in English from the
    mail server). A desk without outgoing mail answers why, too."""
    send_mail = sender(desk)
    if send_mail is None:
        return "the desk has no outgoing mail configured"
    try:
        await send_mail(to, subject, text)
    except ChannelError as exc:
        log.warning("desk mail to %s failed: %s", to, exc)
        return str(exc)
    return None
