"""The API channel's inbound wire format (see docs/api-channel.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec


class Sender(msgspec.Struct, forbid_unknown_fields=True):
    id: str
    name: str | None = None
    email: str | None = None
    phone: str | None = None


class Attachment(msgspec.Struct, forbid_unknown_fields=True):
    filename: str
    content_type: str
    data: bytes  # base64 in JSON


class Message(msgspec.Struct, forbid_unknown_fields=True):
    id: str
    sender: Sender
    text: str = ""
    html: str | None = None
    subject: str | None = None
    thread_id: str | None = None
    sent_at: datetime | None = None
    language: str | None = None
    order_ids: list[str] = []
    attachments: list[Attachment] = []
    metadata: dict[str, Any] = {}


class Status(msgspec.Struct, forbid_unknown_fields=True):
    id: str
    status: Literal["sent", "delivered", "read", "failed"]
    error: str | None = None
    at: datetime | None = None


class InboundPayload(msgspec.Struct, forbid_unknown_fields=True):
    messages: list[Message] = []
    statuses: list[Status] = []
