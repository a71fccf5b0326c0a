"""Keep what must not be translated out of the provider's hands.

Before the call, protected spans (do-not-translate terms, glossary terms, order numbers like #1234,
URLs, {{ template variables }}) become numbered placeholders that machine translation leaves alone
(⟦0⟧, ⟦1⟧ ...); after the call they are put back, glossary terms as their fixed translation.
"""

from __future__ import annotations

import re

PLACEHOLDER = re.compile(r"⟦\s*(\d+)\s*⟧")
_BUILTIN = [
    re.compile(r"\{\{.*?\}\}", re.S),  # template variables
    re.compile(r"https?://[^\s<>\"')\]]+"),  # URLs
    re.compile(r"(?<![\w#])#[A-Za-z0-9][\w-]*"),  # order numbers: #1234, #A-1001
]


def mask(text: str, do_not_translate: list[str] | tuple[str, ...] = (),
         glossary: dict[str, str] | None = None) -> tuple[str, list[str]]:
    """Return the masked text and what each placeholder stands for after translation."""
    glossary = glossary or {}
    patterns = list(_BUILTIN)
    terms = sorted({*do_not_translate, *glossary}, key=len, reverse=True)  # longest first
    if terms:
        patterns.append(re.compile("|".join(rf"(?<!\w){re.escape(t)}(?!\w)" for t in terms if t)))
    spans: list[tuple[int, int]] = []
    for pattern in patterns:
        for m in pattern.finditer(text):
            if not any(m.start() < end and start < m.end() for start, end in spans):
                spans.append((m.start(), m.end()))
    spans.sort()
    out: list[str] = []
    values: list[str] = []
    pos = 0
    for start, end in spans:
        out.append(text[pos:start])
        original = text[start:end]
        values.append(glossary.get(original, original))
        out.append(f"⟦{len(values) - 1}⟧")
        pos = end
    out.append(text[pos:])
    return "".join(out), values


def unmask(text: str, values: list[str]) -> str:
    """Put the protected spans back; a placeholder the provider dropped is appended, never lost."""
    seen: set[int] = set()

    def put(m: re.Match[str]) -> str:
        index = int(m.group(1))
        if index >= len(values):
            return m.group(0)
        seen.add(index)
        return values[index]

    result = PLACEHOLDER.sub(put, text)
    missing = [values[i] for i in range(len(values)) if i not in seen]
    return result + ("".join(f" {v}" for v in missing) if missing else "")
