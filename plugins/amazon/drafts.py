"""What a reply to an Amazon buyer may not contain, after Amazon's Communication Guidelines for
Buyer-Seller Messaging: no links that are not needed to complete the order, no email addresses or
phone numbers, no images or HTML (tracking pixels included), no requests for positive feedback or
reviews, no incentives for them, no requests to change or remove them (a neutral request is
allowed). We add two of our own: no quoted history (Amazon keeps the thread; quoting grows every
mail) and no tracking markers ("[#123]" ticket numbers, Amazon's commMgrTok tokens).

`problems(text)` returns (rule, what was found) pairs; the plugin turns them into DraftProblems in
the agent's language. The checks are deliberately specific so an ordinary reply never trips them;
an admin can switch a rule off (`draft_rules_off`) where it does.
"""

from __future__ import annotations

import re

from plugins.amazon.relay import ORDER_ID

EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
URL = re.compile(r"\b(?:https?://|ftp://|www\.)[^\s<>\"')\]]+", re.IGNORECASE)
# A bare domain ("myshop.com/returns"); Amazon's own domains are fine to name.
DOMAIN = re.compile(r"\b(?:[a-z0-9-]+\.)+(?:com|net|org|info|biz|shop|store|online|site|io|co|me|de|fr|it|es|nl|"
                    r"uk|eu|cn|jp|ca|au|pl|se|be|at|ch)\b(?:/[^\s]*)?", re.IGNORECASE)
AMAZON_DOMAIN = re.compile(r"^(?:[a-z0-9-]+\.)*amazon\.[a-z.]+(?:/.*)?$", re.IGNORECASE)
PHONE = re.compile(r"(?:(?<![\w-])(?:\+|00)\d{1,3}[\s./-]?(?:\(?\d{1,5}\)?[\s./-]?){2,5}\d{2,}"
                   r"|(?<![\w-])\(\d{2,5}\)\s?\d{3,4}[\s.-]?\d{3,5}"
                   r"|(?<![\w-])\d{3}[\s.-]\d{3}[\s.-]\d{4}(?![\w-]))")
HTML = re.compile(r"<\s*(?:img|a|div|span|p|br|table|font|style|script|iframe|html|body)\b[^>]*>|"
                  r"<\s*/\s*(?:a|div|span|p|table|font|html|body)\s*>", re.IGNORECASE)
QUOTED = re.compile(r"^[ \t]*>.*$", re.MULTILINE)
ATTRIBUTION = re.compile(
    r"^.*(?:\bwrote:|\bschrieb\b.*:|\ba écrit\s*:|\bha scritto:|\bescribió:|写道[:：]|-----\s*Original Message\s*-----|"
    r"-{5,}\s*(?:Begin|End) message\s*-{5,}|-{5,}\s*(?:Beginn|Ende) der Nachricht\s*-{5,}).*$",
    re.IGNORECASE | re.MULTILINE)
MARKER = re.compile(r"\[#\d{1,12}\]|\[commMgrTok:[^\]]*\]|\bX-Relaydesk-[\w-]+|\butm_[a-z]+=", re.IGNORECASE)
_W = r"[^.!?\n]{0,50}"
FEEDBACK = re.compile(
    # asking for a positive / five-star review or feedback
    rf"\b(?:positive|good|great|excellent|glowing|5[- ]?stars?|five[- ]?stars?)\s+(?:seller\s+)?(?:feedback|reviews?|ratings?)\b"
    rf"|\b(?:leave|give|write|post|rate)\b{_W}\b(?:5|five)[- ]?stars?\b"
    # asking to change or remove one
    rf"|\b(?:remove|change|update|delete|revise|withdraw|take down)\b{_W}\b(?:feedback|reviews?|ratings?)\b"
    # offering something for one
    rf"|\b(?:refund|discount|gift card|coupon|voucher|free|rebate|compensation)\b{_W}\b(?:for|in exchange for|if you)\b{_W}\b(?:feedback|reviews?|ratings?)\b"
    rf"|\b(?:feedback|reviews?|ratings?)\b{_W}\b(?:refund|discount|gift card|coupon|voucher|rebate)\b"
    # the same in the marketplaces' other main languages
    r"|\bpositive[nrs]?\s+(?:Bewertung|Rezension|Feedback)\w*|\b5\s*Sterne\b|\bBewertung\w*\s+(?:ändern|entfernen|löschen|zurückziehen)"
    r"|\bavis\s+positif|\b5\s*étoiles\b|\bvaloraci[oó]n\s+positiva|\b5\s*estrellas\b|\brecensione\s+positiva|\b5\s*stelle\b"
    r"|好评|五星",
    re.IGNORECASE)


def _phone(text: str) -> re.Match[str] | None:
    """A phone number: 7 to 15 digits (E.164's longest), written with a "+", or with the spaces,
    dots, dashes or brackets people put in phone numbers. A bare run of digits is a parcel
    tracking number or an invoice number, not a phone number."""
    for match in PHONE.finditer(text):
        found = match.group(0)
        digits = re.sub(r"\D", "", found)
        if found.startswith("00"):
            digits = digits[2:]
        if not 7 <= len(digits) <= 15:
            continue
        if found.startswith("+") or re.search(r"[\s./()-]", found):
            return match
    return None


def _mask(text: str, pattern: re.Pattern[str]) -> str:
    return pattern.sub(lambda m: " " * len(m.group(0)), text)


def problems(text: str, disabled: frozenset[str] | set[str] = frozenset()) -> list[tuple[str, str]]:
    """(rule, the first offending bit) for each rule the text breaks, in a stable order."""
    found: list[tuple[str, str]] = []

    def check(rule: str, match: re.Match[str] | None) -> None:
        if match and rule not in disabled:
            found.append((rule, match.group(0).strip()[:80]))

    check("html", HTML.search(text))
    check("email_address", EMAIL.search(text))
    rest = _mask(text, EMAIL)
    url = URL.search(rest)
    if url is None:
        url = next((m for m in DOMAIN.finditer(rest) if not AMAZON_DOMAIN.match(m.group(0))), None)
    check("link", url)
    check("phone", _phone(_mask(_mask(rest, URL), ORDER_ID)))
    quoted = QUOTED.search(text) or ATTRIBUTION.search(text)
    check("quoted_history", quoted)
    check("tracking_marker", MARKER.search(text))
    check("feedback", FEEDBACK.search(text))
    return found
