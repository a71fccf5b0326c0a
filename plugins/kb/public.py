"""What the public help center reads: the published, public articles of one brand and language,
their categories, search over them with core.search's tokenizer, and related articles. Results are
kept in plugins.kb.cache, so a busy help center reads the database once per cache period."""

from __future__ import annotations

from typing import Any

from core.search import query_terms
from plugins.kb import cache, state
from plugins.kb.content import plain_text
from plugins.kb.store import loads
from plugins.kb.tables import KbArticle, KbCategory, KbTerm, KbTranslation
from plugins.kb.theme import brand as load_brand

MAX_RESULTS = 30


async def _cached(key: Any, load: Any) -> Any:
    found = cache.get(key)
    if found is None:
        found = await load()
        cache.put(key, found, state.settings().cache_seconds)
    return found


async def brand(key: str) -> dict[str, Any] | None:
    return await _cached(("brand", key), lambda: load_brand(key)) or None


async def library(brand_key: str, language: str, *, internal: bool = False) -> dict[str, Any]:
    """{"articles": {id: article}, "categories": {id: category}} visible in one help center:
    published texts in `language`, public articles (internal ones too for agents), of this brand."""

    async def load() -> dict[str, Any]:
        texts = await KbTranslation.select(
            KbTranslation.id, KbTranslation.article, KbTranslation.title, KbTranslation.body_html,
            KbTranslation.updated_at).where((KbTranslation.language == language)
                                            & (KbTranslation.status == "published"))
        by_article = {t["article"]: t for t in texts}
        articles: dict[int, dict[str, Any]] = {}
        if by_article:
            rows = await KbArticle.select().where(KbArticle.id.is_in(list(by_article)))
            for row in sorted(rows, key=lambda r: (r["position"], r["id"])):
                brands = loads(row["brands"], [])
                if brands and brand_key not in brands:
                    continue
                if row["visibility"] != "public" and not internal:
                    continue
                text = by_article[row["id"]]
                articles[row["id"]] = {
                    "id": row["id"], "slug": row["slug"], "category": row["category"], "tags": loads(row["tags"], []),
                    "visibility": row["visibility"], "translation": text["id"], "title": text["title"],
                    "body_html": text["body_html"], "updated_at": text["updated_at"],
                    "excerpt": plain_text(text["body_html"])[:200],
                }
        categories = {}
        for c in await KbCategory.select().order_by(KbCategory.position).order_by(KbCategory.id):
            names = loads(c["names"], {})
            categories[c["id"]] = {"id": c["id"], "parent": c["parent"], "slug": c["slug"], "position": c["position"],
                                   "name": names.get(language) or next(iter(names.values()), c["slug"])}
        return {"articles": articles, "categories": categories,
                "by_translation": {a["translation"]: a["id"] for a in articles.values()}}

    return await _cached(("library", brand_key, language, internal), load)


async def article_languages(article_id: int) -> list[str]:
    async def load() -> list[str]:
        rows = await KbTranslation.select(KbTranslation.language).where(
            (KbTranslation.article == article_id) & (KbTranslation.status == "published"))
        return sorted(r["language"] for r in rows)

    return await _cached(("languages", article_id), load)


async def search(brand_key: str, language: str, query: str, *, internal: bool = False,
                 limit: int = MAX_RESULTS) -> list[dict[str, Any]]:
    """Articles whose published text holds every term of the query (core.search.query_terms: words,
    CJK bigrams, a lone CJK character as a prefix), best first: title hits weigh 3, body hits 1."""
    exact, prefixes = query_terms(query)
    if not exact and not prefixes:
        return []
    lib = await library(brand_key, language, internal=internal)
    wanted = lib["by_translation"]
    if not wanted:
        return []

    async def load() -> list[tuple[int, int]]:
        where = KbTerm.term.is_in(exact) if exact else None
        for prefix in prefixes:
            condition = KbTerm.term.like(prefix.replace("%", "").replace("_", "") + "%")
            where = condition if where is None else where | condition
        rows = await KbTerm.select(KbTerm.term, KbTerm.translation, KbTerm.weight).where(
            where & KbTerm.translation.is_in(list(wanted)))
        matched: dict[int, set[str]] = {}
        score: dict[int, int] = {}
        for row in rows:
            term = row["term"]
            keys = {term} if term in exact else set()
            keys.update(f"*{p}" for p in prefixes if term.startswith(p))
            matched.setdefault(row["translation"], set()).update(keys)
            score[row["translation"]] = score.get(row["translation"], 0) + row["weight"]
        need = set(exact) | {f"*{p}" for p in prefixes}
        hits = [(t, score[t]) for t, keys in matched.items() if keys >= need]
        return sorted(hits, key=lambda h: (-h[1], h[0]))

    hits = await _cached(("search", brand_key, language, internal, tuple(exact), tuple(prefixes)), load)
    return [lib["articles"][wanted[t]] for t, _ in hits[:limit] if t in wanted]


def related(lib: dict[str, Any], article: dict[str, Any], limit: int = 5) -> list[dict[str, Any]]:
    """Articles of the same section first, then those sharing tags."""
    tags = set(article["tags"])
    scored = []
    for other in lib["articles"].values():
        if other["id"] == article["id"]:
            continue
        score = 2 * (other["category"] is not None and other["category"] == article["category"])
        score += len(tags & set(other["tags"]))
        if score:
            scored.append((-score, other["id"], other))
    return [o for _, _, o in sorted(scored, key=lambda s: (s[0], s[1]))[:limit]]


async def brand_keys() -> list[str]:
    from plugins.kb.tables import KbBrand

    async def load() -> list[str]:
        return [r["key"] for r in await KbBrand.select(KbBrand.key).order_by(KbBrand.key)]

    return await _cached(("brand_keys",), load)
