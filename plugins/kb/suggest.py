"""Articles for a ticket, offline: the ticket's subject and latest customer messages are cut into
core.search's terms and the published texts (internal ones included: agents read them) in the
ticket's language are ranked by the terms they share, each weighted by how rare it is in the
knowledge base (idf) and by where it stands (title 3, body 1). No model, no network."""

from __future__ import annotations

import math
from typing import Any

from core.plugin_api import search_terms as terms
from core.plugin_api import Message
from plugins.kb import cache, state
from plugins.kb.content import plain_text
from plugins.kb.store import loads
from plugins.kb.tables import KbArticle, KbTerm, KbTranslation

MAX_TERMS = 80


async def _texts(language: str) -> dict[int, dict[str, Any]]:
    """{translation id: {article, title, body, slug, visibility}} of the published texts in `language`."""

    async def load() -> dict[int, dict[str, Any]]:
        rows = await KbTranslation.select(KbTranslation.id, KbTranslation.article, KbTranslation.title,
                                          KbTranslation.body_html).where(
            (KbTranslation.language == language) & (KbTranslation.status == "published"))
        if not rows:
            return {}
        articles = {a["id"]: a for a in await KbArticle.select(KbArticle.id, KbArticle.slug, KbArticle.visibility,
                                                                KbArticle.brands)
                    .where(KbArticle.id.is_in([r["article"] for r in rows]))}
        return {r["id"]: {"article": r["article"], "title": r["title"], "body_html": r["body_html"],
                          "slug": articles[r["article"]]["slug"], "visibility": articles[r["article"]]["visibility"],
                          "brands": loads(articles[r["article"]]["brands"], [])}
                for r in rows if r["article"] in articles}

    key = ("agent-texts", language)
    found = cache.get(key)
    if found is None:
        found = await load()
        cache.put(key, found, state.settings().cache_seconds)
    return found


async def rank(text: str, language: str, limit: int = 3) -> list[dict[str, Any]]:
    texts = await _texts(language)
    wanted = sorted(terms(text))[:MAX_TERMS] if texts else []
    if not wanted:
        return []
    rows = await KbTerm.select(KbTerm.term, KbTerm.translation, KbTerm.weight).where(
        KbTerm.term.is_in(wanted) & KbTerm.translation.is_in(list(texts)))
    frequency: dict[str, int] = {}
    for row in rows:
        frequency[row["term"]] = frequency.get(row["term"], 0) + 1
    total = len(texts)
    score: dict[int, float] = {}
    for row in rows:
        idf = math.log(1 + total / frequency[row["term"]])
        score[row["translation"]] = score.get(row["translation"], 0.0) + row["weight"] * idf
    best = sorted(score.items(), key=lambda s: (-s[1], s[0]))[:limit]
    return [{"article": texts[t]["article"], "title": texts[t]["title"], "slug": texts[t]["slug"], "language": language,
             "visibility": texts[t]["visibility"], "brands": texts[t]["brands"], "score": round(s, 2),
             "passage": plain_text(texts[t]["body_html"])[:600]} for t, s in best]


def _detect(text: str) -> str | None:
    """The text's language when the ticket has none (no classifier set it): py3langid, which ships
    its model and runs offline."""
    if not text.strip():
        return None
    import py3langid

    code, _ = py3langid.classify(text)
    return code or None


async def for_ticket(ticket: dict[str, Any], limit: int) -> list[dict[str, Any]]:
    """The best articles for a ticket, in its language (detected from its text when the ticket has
    none; English when no article is written in it)."""
    messages = await Message.select(Message.text).where(
        (Message.ticket == ticket["id"]) & (Message.direction == "inbound")
    ).order_by(Message.id, ascending=False).limit(3)
    text = " ".join([ticket.get("subject") or "", *(m["text"] or "" for m in messages)])[:5000]
    language = (ticket.get("language") or _detect(text) or "en").lower().replace("_", "-")
    for candidate in dict.fromkeys([language, language.split("-")[0], "en"]):
        found = await rank(text, candidate, limit)
        if found:
            return found
    return []
