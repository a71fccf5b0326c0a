"""eBay Notification API messages as typed structures (the Notification API's message envelope and
the MARKETPLACE_ACCOUNT_DELETION payload, as in eBay's event-notification SDK test vectors).

The envelope is checked first; ``data`` stays raw until the topic says what it holds, so a topic we
do not handle is acknowledged whatever its data looks like. A declared field of the wrong type is a
400 that names it (eBay's own SDK answers a message it cannot read the same way).
"""

from __future__ import annotations

import msgspec


class Metadata(msgspec.Struct):
    topic: str
    schemaVersion: str | None = None
    deprecated: bool | None = None


class Notification(msgspec.Struct):
    notificationId: str
    data: msgspec.Raw
    eventDate: str | None = None
    publishDate: str | None = None
    publishAttemptCount: int | None = None


class Envelope(msgspec.Struct):
    metadata: Metadata
    notification: Notification


class AccountDeletion(msgspec.Struct):
    """The user to erase: a username, an immutable userId, or both."""

    username: str | None = None
    userId: str | None = None
    eiasToken: str | None = None
