"""The WhatsApp Cloud API webhook format as typed structures (Meta's "Webhooks > messages" reference).

Decoding is in layers so that one malformed event costs only itself: the envelope keeps each entry,
change, message and status as raw JSON, and each is decoded on its own (plugins.whatsapp.parse).
Fields not declared here are ignored (Meta adds fields over time); a declared field of the wrong
type makes its event invalid. Nothing undeclared is ever stored.
"""

from __future__ import annotations

import msgspec


class Wire(msgspec.Struct, omit_defaults=True):
    """Base: unset fields stay out of what to_builtins gives, so stored metadata holds only what Meta sent."""


class Envelope(Wire):
    object: str
    entry: list[msgspec.Raw] = []


class Entry(Wire):
    id: str | None = None
    changes: list[msgspec.Raw] = []


class Change(Wire):
    field: str
    value: msgspec.Raw


class Metadata(Wire):
    phone_number_id: str
    display_phone_number: str | None = None


class Profile(Wire):
    name: str | None = None
    username: str | None = None


class Contact(Wire):
    wa_id: str | None = None
    profile: Profile | None = None
    user_id: str | None = None


class Value(Wire):
    """One `messages` change. Messages and statuses stay raw: each is checked on its own."""

    messaging_product: str | None = None
    metadata: Metadata | None = None
    contacts: list[Contact] = []
    messages: list[msgspec.Raw] = []
    message_echoes: list[msgspec.Raw] = []
    statuses: list[msgspec.Raw] = []


class Text(Wire):
    body: str


class Media(Wire):
    """image, video, audio, document, sticker."""

    id: str | None = None
    mime_type: str | None = None
    sha256: str | None = None
    caption: str | None = None
    filename: str | None = None
    voice: bool | None = None
    animated: bool | None = None
    url: str | None = None


class Location(Wire):
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None
    url: str | None = None


class ContactName(Wire):
    formatted_name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    middle_name: str | None = None


class ContactPhone(Wire):
    phone: str | None = None
    type: str | None = None
    wa_id: str | None = None


class ContactEmail(Wire):
    email: str | None = None
    type: str | None = None


class ContactOrg(Wire):
    company: str | None = None
    department: str | None = None
    title: str | None = None


class SharedContact(Wire):
    name: ContactName | None = None
    phones: list[ContactPhone] = []
    emails: list[ContactEmail] = []
    org: ContactOrg | None = None
    birthday: str | None = None


class Reply(Wire):
    """button_reply / list_reply."""

    id: str | None = None
    title: str | None = None
    description: str | None = None


class FlowReply(Wire):
    """nfm_reply: a WhatsApp Flow's answer (response_json is a JSON string, kept as text)."""

    body: str | None = None
    name: str | None = None
    response_json: str | None = None


class Interactive(Wire):
    type: str
    button_reply: Reply | None = None
    list_reply: Reply | None = None
    nfm_reply: FlowReply | None = None


class Button(Wire):
    text: str | None = None
    payload: str | None = None


class Reaction(Wire):
    message_id: str
    emoji: str | None = None


class ProductItem(Wire):
    product_retailer_id: str
    quantity: int
    item_price: float
    currency: str


class Order(Wire):
    catalog_id: str | None = None
    text: str | None = None
    product_items: list[ProductItem] = []


class System(Wire):
    body: str | None = None
    type: str | None = None
    wa_id: str | None = None
    new_wa_id: str | None = None


class ErrorData(Wire):
    details: str | None = None


class Error(Wire):
    code: int | None = None
    title: str | None = None
    message: str | None = None
    error_data: ErrorData | None = None
    href: str | None = None


class Referral(Wire):
    """A message sent from a Click-to-WhatsApp ad or a post."""

    source_url: str | None = None
    source_id: str | None = None
    source_type: str | None = None
    headline: str | None = None
    body: str | None = None
    media_type: str | None = None
    image_url: str | None = None
    video_url: str | None = None
    thumbnail_url: str | None = None
    ctwa_clid: str | None = None


class Context(Wire):
    id: str | None = None
    from_: str | None = msgspec.field(default=None, name="from")
    forwarded: bool | None = None
    frequently_forwarded: bool | None = None


class Revoke(Wire):
    original_message_id: str


class InnerMessage(Wire):
    """The new version inside an `edit`."""

    type: str = "text"
    text: Text | None = None
    image: Media | None = None
    video: Media | None = None
    audio: Media | None = None
    document: Media | None = None
    sticker: Media | None = None
    context: Context | None = None


class Edit(Wire):
    original_message_id: str
    message: InnerMessage | None = None


class Message(Wire):
    id: str
    type: str = "unknown"
    from_: str | None = msgspec.field(default=None, name="from")
    to: str | None = None  # echoes: the customer
    timestamp: str | None = None
    text: Text | None = None
    image: Media | None = None
    video: Media | None = None
    audio: Media | None = None
    document: Media | None = None
    sticker: Media | None = None
    location: Location | None = None
    contacts: list[SharedContact] = []
    interactive: Interactive | None = None
    button: Button | None = None
    reaction: Reaction | None = None
    order: Order | None = None
    system: System | None = None
    referral: Referral | None = None
    context: Context | None = None
    revoke: Revoke | None = None
    edit: Edit | None = None
    errors: list[Error] = []


class Status(Wire):
    id: str
    status: str
    timestamp: str | None = None
    recipient_id: str | None = None
    errors: list[Error] = []
