"""Fold quoted history and signatures out of a reply, keeping forwarded content visible."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Attribution lines ("On <date>, <who> wrote:") in the languages our sellers' customers write.
_ATTRIBUTION_END = re.compile(
    r"(wrote|writes|schrieb|a écrit|a ecrit|escribió|escribio|ha scritto|escreveu|schreef"
    r"|napisał|написал|написала|написал\(а\)|skrev|kirjoitti|yazdı|写道|寫道|のメッセージ)\s*[:：]\s*$",
    re.I,
)
_ATTRIBUTION_START = re.compile(
    r"^\s*(on|am|le|el|il|em|op|den|w dniu|在|于|於|\d{1,4}[./-]\d{1,2}[./-]\d{1,4}|\d{4}年)", re.I
)
# German puts the verb first: "Am 03.04.2012 um 16:19 schrieb Bob <bob@example.com>:".
_GERMAN_ATTRIBUTION = re.compile(r"^\s*am\s.+\sschrieb\s.+:\s*$", re.I)
_ORIGINAL_MESSAGE = re.compile(
    r"^\s*-{2,}\s*(original message|ursprüngliche nachricht|message d'origine|mensaje original"
    r"|messaggio originale|oorspronkelijk bericht|原始邮件|原始郵件|原始信件)\s*-{2,}\s*$",
    re.I,
)
_FORWARD_MARKER = re.compile(
    r"^\s*(-{2,}\s*(forwarded message|weitergeleitete nachricht|message transféré|mensaje reenviado"
    r"|messaggio inoltrato|doorgestuurd bericht|转发的邮件|轉寄的郵件)\s*-{2,}"
    r"|begin forwarded message:|anfang der weitergeleiteten nachricht:"
    r"|début du message réexpédié :?)\s*$",
    re.I,
)
_HEADER_LINE = re.compile(
    r"^\s*\*?(from|sent|date|to|cc|subject|von|gesendet|datum|an|betreff|de|envoyé|date|à|objet"
    r"|enviado|enviada|para|asunto|assunto|da|inviato|oggetto|van|verzonden|aan|onderwerp"
    r"|od|wysłano|do|temat|от|отправлено|дата|кому|копия|тема"
    r"|发件人|发送时间|收件人|抄送|主题|寄件者|傳送時間|收件者|主旨|差出人|送信日時|宛先|件名)\*?\s*[:：]",
    re.I,
)
_FROM_LINE = re.compile(r"^\s*\*?(from|von|de|da|van|od|от|发件人|寄件者|差出人)\*?\s*[:：]", re.I)
# "26.06.2014, 14:41, "Alex" <a@example.com>:" - attributions without a verb end in a colon
# and name a date or an address; they count only right above a trailing quote.
_BARE_ATTRIBUTION = re.compile(r"(@|\d).*[:：]\s*$")
_SEPARATOR = re.compile(r"^\s*(-{4,}|_{8,}|={8,})\s*$")
_SIGNATURE = re.compile(r"^--\s?$")
# Any line that could start a marker (all of the above but '>' quoting and separators).
_ANY_MARKER = re.compile("|".join(f"(?:{p.pattern})" for p in (
    _FORWARD_MARKER, _ORIGINAL_MESSAGE, _GERMAN_ATTRIBUTION, _ATTRIBUTION_START, _HEADER_LINE)), re.I)
MAX_FOLD_CHARS = 200_000  # bigger bodies are dumps and digests: shown whole
MAX_SCAN_LINES = 5000  # a reply's own text comes first; past this we stop looking for history


@dataclass(slots=True)
class Reply:
    body: str  # the new text, signature included (what talon calls the reply)
    signature: str  # the trailing "-- " block, if any
    quoted: str  # the folded history

    @property
    def visible(self) -> str:
        return self.body[: len(self.body) - len(self.signature)].rstrip() if self.signature else self.body


def _attribution_at(lines: list[str], i: int) -> bool:
    line = lines[i]
    if _GERMAN_ATTRIBUTION.match(line):
        return True
    if not _ATTRIBUTION_START.match(line):
        return False
    # Clients wrap long attributions over up to three lines.
    joined = line
    for k in range(i, min(i + 3, len(lines))):
        if k > i:
            if not lines[k].strip():
                break
            joined += " " + lines[k]
        if _ATTRIBUTION_END.search(joined):
            return True
    return False


def _header_block_at(lines: list[str], i: int) -> bool:
    """An Outlook-style "From: / Sent: / To: / Subject:" block starts at line i."""
    run = 0
    has_from = False
    for k in range(i, min(i + 8, len(lines))):
        if not _HEADER_LINE.match(lines[k]):
            break
        run += 1
        has_from = has_from or bool(_FROM_LINE.match(lines[k]))
    return run >= 2 and has_from


def _quote_start(lines: list[str], forwarded: bool) -> int | None:
    n = len(lines)
    # Every marker but '>' quoting has a colon (or a dash rule) within three lines: checking
    # that first keeps huge bodies cheap.
    colon = [":" in line or "：" in line for line in lines]
    block_end = 0
    for i, line in enumerate(lines):
        if i >= MAX_SCAN_LINES:
            return None
        stripped = line.lstrip()
        if not stripped:
            continue
        if not (stripped[0] in "->_=" or colon[i] or (i + 1 < n and colon[i + 1]) or (i + 2 < n and colon[i + 2])):
            continue
        if stripped[0] != ">" and not _ANY_MARKER.match(line):
            continue  # one regex call rules out every marker below
        if _FORWARD_MARKER.match(line):
            return None  # what follows is forwarded content: it stays visible
        if stripped[0] == ">":
            # An interleaved quote stays when the writer answers below it.
            if i < block_end:
                continue  # inside a block already found to be answered below
            k = i
            while k < n and (not lines[k].strip() or lines[k].lstrip().startswith(">")):
                k += 1
            block_end = k
            if k >= n or _SIGNATURE.match(lines[k]):
                j = i - 1
                while j >= 0 and not lines[j].strip():
                    j -= 1
                if j >= 0 and _BARE_ATTRIBUTION.search(lines[j]) and len(lines[j]) < 200:
                    return j
                return i
            continue
        if forwarded:
            continue  # "Fwd:" mail: original-message blocks are the point of the mail
        if _ORIGINAL_MESSAGE.match(line) or _attribution_at(lines, i):
            return i
        if _HEADER_LINE.match(line) and _header_block_at(lines, i):
            # Include the separator line Outlook and webmails draw above the block.
            k = i - 1
            while k >= 0 and not lines[k].strip():
                k -= 1
            return k if k >= 0 and _SEPARATOR.match(lines[k]) else i
    return None


def _signature_start(lines: list[str]) -> int | None:
    for i in range(len(lines) - 1, -1, -1):
        line = lines[i]
        if line == "-- " or (_SIGNATURE.match(line) and len(lines) - i <= 12):
            return i
    return None


def split_reply(text: str, *, forwarded: bool = False) -> Reply:
    """Split a plain-text body into the new reply, its signature and the quoted history."""
    if len(text) > MAX_FOLD_CHARS:
        return Reply(body=text, signature="", quoted="")  # logs and digests, not replies
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    cut = _quote_start(lines, forwarded)
    body_lines = lines if cut is None else lines[:cut]
    quoted = "" if cut is None else "\n".join(lines[cut:]).strip("\n")
    while body_lines and not body_lines[-1].strip():
        body_lines.pop()
    body = "\n".join(body_lines).rstrip()
    signature = ""
    sig = _signature_start(body_lines)
    if sig is not None:
        signature = "\n".join(body_lines[sig:]).rstrip()
    return Reply(body=body, signature=signature, quoted=quoted)


def visible_text(text: str, *, forwarded: bool = False) -> str:
    """The reply without quoted history and signature."""
    try:
        return split_reply(text, forwarded=forwarded).visible
    except Exception:  # noqa: BLE001 - folding is cosmetic; never lose the text over it
        return text
