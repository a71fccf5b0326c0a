"""Messenger Platform and Instagram Messaging webhooks as typed structures (Meta's "Webhook Events"
reference: messages, message_echoes, messaging_postbacks, message_reactions, message_deliveries,
message_reads / messaging_seen, messaging_referrals).

Decoding is in layers so that one malformed event costs only itself: the envelope keeps each entry
and event as raw JSON, each is decoded on its own (plugins.facebook.parse). Fields not declared
here are ignored; a declared field of the wrong type makes its event invalid.
"""

from __future__ import annotations

import msgspec


class Wire(msgspec.Struct, omit_defaults=True):
    """Base: unset fields stay out of what to_builtins gives, so stored metadata holds only what Meta sent."""


class Envelope(Wire):
    object: str
    entry: list[msgspec.Raw] = []


class Entry(Wire):
    id: str
    time: int | None = None
    messaging: list[msgspec.Raw] = []


class Party(Wire):
    id: str


class AdsContext(Wire):
    ad_title: str | None = None
    photo_url: str | None = None
    video_url: str | None = None
    post_id: str | None = None
    product_id: str | None = None
    flow_id: str | None = None


class Referral(Wire):
    """How the person came to the conversation: an ad (source ADS, ad_id), an m.me/ig.me link (ref)..."""

    ref: str | None = None
    ad_id: str | None = None
    source: str | None = None
    type: str | None = None
    referer_uri: str | None = None
    ads_context_data: AdsContext | None = None


class Coordinates(Wire):
    lat: float
    long: float


class AttachmentPayload(Wire):
    url: str | None = None
    title: str | None = None
    sticker_id: int | None = None
    coordinates: Coordinates | None = None


class Attachment(Wire):
    type: str
    payload: AttachmentPayload | None = None


class Story(Wire):
    id: str | None = None
    url: str | None = None


class ReplyTo(Wire):
    mid: str | None = None
    story: Story | None = None


class QuickReply(Wire):
    payload: str


class Message(Wire):
    mid: str
    text: str | None = None
    is_echo: bool = False
    is_deleted: bool = False
    is_unsupported: bool = False
    app_id: int | None = None
    metadata: str | None = None
    quick_reply: QuickReply | None = None
    reply_to: ReplyTo | None = None
    attachments: list[Attachment] = []
    sticker_id: int | None = None
    referral: Referral | None = None


class Postback(Wire):
    mid: str | None = None
    title: str | None = None
    payload: str | None = None
    referral: Referral | None = None


class Reaction(Wire):
    mid: str | None = None
    action: str = "react"
    reaction: str | None = None
    emoji: str | None = None


class Delivery(Wire):
    mids: list[str] = []
    watermark: int | None = None


class Read(Wire):
    watermark: int | None = None
    mid: str | None = None


class Event(Wire):
    sender: Party
    recipient: Party
    timestamp: int | None = None
    message: Message | None = None
    postback: Postback | None = None
    reaction: Reaction | None = None
    delivery: Delivery | None = None
    read: Read | None = None
    referral: Referral | None = None
