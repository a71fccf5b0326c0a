"""Amazon's Buyer-Seller Messaging relay mail, recognised whichever email account it arrives on.

Buyers reach a seller only through the relay: a mail from an anonymised address
``<token>@marketplace.amazon.<tld>`` that stays the same for one buyer and one seller, with the
order id (3-7-7 digits) in the subject. Amazon wraps the buyer's words in its own text: a header
naming the order and the product (ASIN and title), the message between two dashed marker lines
("------------- Begin message -------------" / "... End message ..." in the marketplace's
language), and a footer (the retention notice, safe-shopping links, a copyright line, sometimes a
``[commMgrTok:...]`` token). `claim` keeps only the buyer's words and reports the marketplace, the
order, the product and the buyer's relay address. It does no I/O (it runs inside ingest).
"""

from __future__ import annotations

import re
from typing import Any

from core.plugin_api import InboundClaim, InboundMessage

KIND = "amazon"
RELAY = re.compile(r"^[^@\s]+@marketplace\.(amazon\.[a-z]{2,3}(?:\.[a-z]{2})?)$", re.IGNORECASE)
ORDER_ID = re.compile(r"(?<![\d-])(\d{3}-\d{7}-\d{7})(?![\d-])")
# An ASIN is "B0" plus eight letters/digits, or an ISBN-10 for books.
ASIN = re.compile(r"\bASIN\s*[:#]?\s*([A-Z0-9]{10})\b|\b(B0[A-Z0-9]{8})\b")
# A line of five or more dashes, a few words, five or more dashes: Amazon's message markers in
# every marketplace language ("Begin message", "Beginn der Nachricht", "Début du message"...).
MARKER = re.compile(r"^[ \t>]*-{5,}[ \t]*([^\n-][^\n]{0,60}?)[ \t]*-{5,}[ \t]*$", re.MULTILINE)
# "Inquiry from Amazon customer Jane (Order: 123-...)", "Anfrage von Amazon-Kunde Jane (Bestellung: ...)"
CUSTOMER_IN_SUBJECT = re.compile(r"(?:customer|kunde|client|cliente|klant|klient)\s+(.+?)\s*\(", re.IGNORECASE)
DISPLAY_SUFFIX = re.compile(r"\s*[-–]\s*(?:amazon\s+marketplace|marketplace)\s*$", re.IGNORECASE)
PRODUCT_LINE = re.compile(r"^\s*(?:\d+\s*(?:of|x|×|/)\s*)?(?:#\s*)?(.+?)\s*\[ASIN:\s*([A-Z0-9]{10})\]\s*$", re.MULTILINE)
MAX_ORIGINAL = 20_000


def relay_domain(address: str | None) -> str | None:
    """The marketplace domain ("amazon.de") of a relay address, None for any other address."""
    match = RELAY.match((address or "").strip())
    return match.group(1).lower() if match else None


def strip_wrapper(text: str) -> tuple[str, bool]:
    """The buyer's words between Amazon's markers (True), or the text minus Amazon's footer (False)."""
    text = text.replace("\r\n", "\n")
    markers = list(MARKER.finditer(text))
    if len(markers) >= 2:
        body = text[markers[0].end():markers[1].start()]
        return _tidy(body), True
    if len(markers) == 1:  # only the opening marker survived (a client cut the mail)
        return _tidy(_cut_footer(text[markers[0].end():])), True
    return _tidy(_cut_footer(text)), False


_FOOTERS = re.compile(
    r"^\s*(?:For Your Information:|Zu Ihrer Information:|Pour votre information|Per tua informazione|"
    r"Para tu información|Was this email helpful\?|War diese E-Mail hilfreich\?|Copyright \d{4}|"
    r"\[commMgrTok:)", re.IGNORECASE | re.MULTILINE)


def _cut_footer(text: str) -> str:
    match = _FOOTERS.search(text)
    return text[:match.start()] if match else text


def _tidy(text: str) -> str:
    text = re.sub(r"\[commMgrTok:[^\]]*\]", "", text)
    lines = [line.rstrip() for line in text.split("\n")]
    return "\n".join(lines).strip()


def product_of(text: str) -> dict[str, str] | None:
    """The product Amazon names in its header: {"asin", "title"} (title may be empty)."""
    line = PRODUCT_LINE.search(text)
    if line:
        return {"asin": line.group(2), "title": line.group(1).strip()}
    match = ASIN.search(text)
    if match:
        return {"asin": match.group(1) or match.group(2), "title": ""}
    return None


def claim(message: InboundMessage) -> InboundClaim | None:
    """An InboundClaim for relay mail, None for anything else."""
    sender = message.sender_email or message.sender_handle
    marketplace = relay_domain(sender)
    if marketplace is None:
        return None
    original = message.text or ""
    raw = str(message.metadata.get("original_text") or original)  # the email plugin folds quotes
    body, wrapped = strip_wrapper(raw)
    header = raw[: MARKER.search(raw).start()] if wrapped and MARKER.search(raw) else raw
    subject = message.subject or ""
    orders = list(dict.fromkeys(ORDER_ID.findall(subject) + ORDER_ID.findall(header)))
    product = product_of(header)
    buyer = _buyer_name(subject, message.sender_name)
    fields: dict[str, Any] = {
        "marketplace": marketplace, "buyer_address": sender.strip().lower(),
        "order_id": orders[0] if orders else None, "wrapped": wrapped,
    }
    if product:
        fields["asin"] = product["asin"]
        fields["product"] = product["title"][:300]
    if raw != body:
        fields["original_text"] = raw[:MAX_ORIGINAL]
    # One conversation per buyer and order: the relay keeps no mail headers to thread on.
    thread = f"{KIND}:{sender.strip().lower()}:{orders[0] if orders else '-'}"
    return InboundClaim(
        kind=KIND, text=body or original.strip(), html=None, sender_name=buyer, thread_key=thread,
        order_ids=orders, tags=[f"marketplace:{marketplace}"], fields=fields,
    )


def _buyer_name(subject: str, display: str | None) -> str | None:
    match = CUSTOMER_IN_SUBJECT.search(subject)
    if match:
        return match.group(1).strip()[:200] or None
    if display:
        return DISPLAY_SUFFIX.sub("", display).strip() or None
    return None
