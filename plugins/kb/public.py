"""What the public help center reads: the published, public articles of one brand and language,
their categories, search over them with core.search's tokenizer, and related articles. Results are
kept in plugins.kb.cache, so a busy help center reads the database once per cache period."""

from __future__ import annotations

from typing import Any

from core.plugin_api import db
from core.plugin_api import search_query_terms as query_terms
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
    """The languages an article is published in (for hreflang), from one cached map of all of them."""

    async def load() -> dict[int, list[str]]:
        rows = await KbTranslation.select(KbTranslation.article, KbTranslation.language).where(
            KbTranslation.status == "published")
        found: dict[int, list[str]] = {}
        for row in rows:
            found.setdefault(row["article"], []).append(row["language"])
        return {article: sorted(languages) for article, languages in found.items()}

    return (await _cached(("languages",), load)).get(article_id, [])


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
        # the exact terms are intersected by the database: a text has each term at most once, so
        # the texts with all n terms are the groups of n rows
        score: dict[int, int] | None = None
        if exact:
            marks = ", ".join("{}" for _ in exact)
            rows = await db.fetch(f"SELECT translation, SUM(weight) AS score FROM kb_terms WHERE term IN ({marks}) "
                                  "GROUP BY translation HAVING COUNT(*) = {}", *exact, len(exact))
            score = {r["translation"]: int(r["score"]) for r in rows}
        for prefix in prefixes:  # a lone CJK character: any term that starts with it
            rows = await KbTerm.select(KbTerm.translation, KbTerm.weight).where(
                KbTerm.term.like(prefix.replace("%", "").replace("_", "") + "%"))
            found: dict[int, int] = {}
            for row in rows:
                found[row["translation"]] = max(found.get(row["translation"], 0), row["weight"])
            score = found if score is None else {t: v + found[t] for t, v in score.items() if t in found}
        hits = [(t, v) for t, v in (score or {}).items() if t in wanted]
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
