"""A mail's topic: its subject without the reply and forward prefixes mail clients add.

"Re: Fwd: AW: Broken lamp [#12]" and "broken  lamp" are one topic. The core uses it to thread a
reply whose client dropped In-Reply-To and References (InboundMessage.topic).
"""

from __future__ import annotations

import re

# Reply and forward prefixes as mail clients write them, in the languages the desk meets:
# English, German (AW, WG, Antw), Nordic (SV, VS, VB), Dutch (Antw, Doorst), French (TR, RE),
# Spanish/Portuguese (RV, ENC, RES, R), Italian (R, I, Inoltr), Polish (Odp, PD), Turkish (YNT,
# İLT), Finnish (VL, VS), Greek (ΑΠ, ΣΧΕΤ, ΠΡΘ), Chinese (回复, 回覆, 答复, 答覆, 转发, 轉寄,
# 转寄), Japanese (返信, 転送), Korean (회신, 답장, 전달), with an optional counter ("Re[2]:",
# "Re(2):", "Re^2:") and an ASCII or full-width colon.
_PREFIX = re.compile(
    r"^\s*(?:re|fwd?|fw|aw|wg|sv|vs|vb|antw|doorst|tr|rv|enc|res|r|i|inoltr|odp|pd|ynt|i̇lt|ilt|vl|"
    r"απ|σχετ|πρθ|回复|回覆|答复|答覆|转发|轉發|轉寄|转寄|返信|転送|회신|답장|전달)"
    r"\s*(?:\[\d+\]|\(\d+\)|\^\d+)?\s*[:：]\s*",
    re.I,
)
# A mailing list's "[list]" tag or a ticket's "[#12]" reference before or after the subject.
_TAG = re.compile(r"\[#?\d+\]")


def topic(subject: str | None) -> str | None:
    """The normalized topic of `subject`, or None when nothing is left to match on."""
    text = _TAG.sub(" ", subject or "")
    while True:
        stripped = _PREFIX.sub("", text, count=1)
        if stripped == text:
            break
        text = stripped
    text = " ".join(text.casefold().split())
    return text or None
