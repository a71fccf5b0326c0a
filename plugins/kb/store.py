"""Reading and writing the knowledge base: categories, articles, translations and their revisions.

Every write of a translation stores a new numbered revision beside the current text, so history is
complete and a restore is just another save (of an old revision's text). Published translations
are indexed for search with core.search's tokenizer, the one ticket search uses, so Chinese and
Latin words are found the same way. The API, the admin pages and the import all write through here.
"""

from __future__ import annotations

import difflib
import json
import re
from datetime import datetime, timezone
from typing import Any, Iterable

from core.plugin_api import db
from core.plugin_api import Conflict, InvalidRequest, NotFound
from core.plugin_api import MAX_SEARCH_TERM as MAX_TERM, search_terms as terms
from plugins.kb import cache
from plugins.kb.content import MAX_BODY, MAX_TITLE, markdown_to_html, normalize_language, plain_text, sanitize, slugify
from plugins.kb.tables import KbArticle, KbCategory, KbRevision, KbTerm, KbTranslation

STATUSES = ("draft", "published")
VISIBILITIES = ("public", "internal")
MAX_TAGS = 30
_TAG = re.compile(r"^[\w .-]{1,40}$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")


def now() -> datetime:
    return datetime.now(timezone.utc)


def loads(value: str | None, default: Any) -> Any:
    try:
        return json.loads(value) if value else default
    except ValueError:
        return default


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def language_or_400(code: str) -> str:
    language = normalize_language(code)
    if language is None:
        raise InvalidRequest(f"{code[:20]!r} is not a language code; use one like zh, en or pt-br")
    return language


def _slug_or_400(slug: str) -> str:
    if not _SLUG.fullmatch(slug):
        raise InvalidRequest(f"slug {slug[:40]!r} must be lower-case letters, digits and dashes")
    return slug


def clean_tags(tags: Iterable[str]) -> list[str]:
    out: list[str] = []
    for tag in tags:
        tag = str(tag).strip().lower()
        if not tag:
            continue
        if not _TAG.fullmatch(tag):
            raise InvalidRequest(f"tag {tag[:40]!r} may hold letters, digits, spaces, dots and dashes (40 at most)")
        if tag not in out:
            out.append(tag)
    if len(out) > MAX_TAGS:
        raise InvalidRequest(f"an article has at most {MAX_TAGS} tags")
    return out


def body_from(body_html: str | None, body_markdown: str | None) -> str:
    if body_html is not None and body_markdown is not None:
        raise InvalidRequest("give body_html or body_markdown, not both")
    raw = markdown_to_html(body_markdown) if body_markdown is not None else (body_html or "")
    if len(raw) > MAX_BODY:
        raise InvalidRequest(f"the body is longer than {MAX_BODY} characters")
    return sanitize(raw).strip()


# --- categories -----------------------------------------------------------------------------------


def category_out(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "parent": row["parent"], "slug": row["slug"], "names": loads(row["names"], {}),
            "position": row["position"]}


async def categories() -> list[dict[str, Any]]:
    rows = await KbCategory.select().order_by(KbCategory.position).order_by(KbCategory.id)
    return [category_out(r) for r in rows]


async def save_category(*, category_id: int | None, slug: str, names: dict[str, str], parent: int | None,
                        position: int) -> dict[str, Any]:
    clean_names: dict[str, str] = {}
    for code, name in names.items():
        name = str(name).strip()
        if not name or len(name) > 200:
            raise InvalidRequest("a category name is 1 to 200 characters")
        clean_names[language_or_400(code)] = name
    if not clean_names:
        raise InvalidRequest("a category needs a name in at least one language")
    slug = _slug_or_400(slug or slugify(next(iter(clean_names.values())), f"category-{len(clean_names)}"))
    if parent is not None:
        above = await KbCategory.select().where(KbCategory.id == parent).first()
        if above is None:
            raise InvalidRequest(f"parent category {parent} does not exist")
        if above["parent"] is not None:
            raise InvalidRequest("a section belongs to a category, not to another section")
        if category_id is not None and parent == category_id:
            raise InvalidRequest("a category cannot be its own parent")
    clash = KbCategory.slug == slug
    clash &= KbCategory.parent.is_null() if parent is None else KbCategory.parent == parent
    if category_id is not None:
        clash &= KbCategory.id != category_id
    if await KbCategory.exists().where(clash):
        raise Conflict(f"another category here already has the slug {slug!r}")
    values = {KbCategory.slug: slug, KbCategory.names: dumps(clean_names), KbCategory.parent: parent,
              KbCategory.position: position}
    if category_id is None:
        row = (await KbCategory.insert(KbCategory(**{c._meta.name: v for c, v in values.items()}))
               .returning(KbCategory.id))[0]
        category_id = row["id"]
    else:
        if not await KbCategory.exists().where(KbCategory.id == category_id):
            raise NotFound(f"category {category_id} does not exist")
        if parent is not None and await KbCategory.exists().where(KbCategory.parent == category_id):
            raise InvalidRequest("this category has sections; it cannot become a section itself")
        await KbCategory.update(values).where(KbCategory.id == category_id)
    cache.clear()
    found = await KbCategory.select().where(KbCategory.id == category_id).first()
    return category_out(found)


async def delete_category(category_id: int) -> None:
    if not await KbCategory.exists().where(KbCategory.id == category_id):
        raise NotFound(f"category {category_id} does not exist")
    if await KbCategory.exists().where(KbCategory.parent == category_id) or \
            await KbArticle.exists().where(KbArticle.category == category_id):
        raise Conflict("the category still holds sections or articles; move or delete them first")
    await KbCategory.delete().where(KbCategory.id == category_id)
    cache.clear()


# --- articles -------------------------------------------------------------------------------------


def _translation_out(row: dict[str, Any], with_body: bool = True) -> dict[str, Any]:
    out = {"language": row["language"], "title": row["title"], "status": row["status"],
           "revision": row["revision"], "updated_at": row["updated_at"].isoformat() if row["updated_at"] else None,
           "published_at": row["published_at"].isoformat() if row["published_at"] else None}
    if with_body:
        out["body_html"] = row["body_html"]
    return out


def article_out(row: dict[str, Any], translations: list[dict[str, Any]], with_body: bool = True) -> dict[str, Any]:
    return {
        "id": row["id"], "slug": row["slug"], "category": row["category"], "visibility": row["visibility"],
        "brands": loads(row["brands"], []), "tags": loads(row["tags"], []), "position": row["position"],
        "helpful_yes": row["helpful_yes"], "helpful_no": row["helpful_no"], "views": row["views"],
        "translations": {t["language"]: _translation_out(t, with_body) for t in translations},
    }


async def get_article(article_id: int, with_body: bool = True) -> dict[str, Any]:
    row = await KbArticle.select().where(KbArticle.id == article_id).first()
    if row is None:
        raise NotFound(f"article {article_id} does not exist")
    translations = await KbTranslation.select().where(KbTranslation.article == article_id)
    return article_out(row, sorted(translations, key=lambda t: t["language"]), with_body)


async def list_articles(*, language: str | None = None, status: str | None = None, tag: str | None = None,
                        category: int | None = None, brand: str | None = None) -> list[dict[str, Any]]:
    query = KbArticle.select().order_by(KbArticle.position).order_by(KbArticle.id)
    if category is not None:
        query = query.where(KbArticle.category == category)
    rows = await query
    ids = [r["id"] for r in rows]
    by_article: dict[int, list[dict[str, Any]]] = {}
    if ids:
        for t in await KbTranslation.select().where(KbTranslation.article.is_in(ids)):
            by_article.setdefault(t["article"], []).append(t)
    out = []
    for row in rows:
        translations = sorted(by_article.get(row["id"], []), key=lambda t: t["language"])
        if language:
            translations = [t for t in translations if t["language"] == language]
        if status:
            translations = [t for t in translations if t["status"] == status]
        if (language or status) and not translations:
            continue
        item = article_out(row, translations, with_body=False)
        if tag and tag not in item["tags"]:
            continue
        if brand and item["brands"] and brand not in item["brands"]:
            continue
        out.append(item)
    return out


async def _check_category(category: int | None) -> None:
    if category is not None and not await KbCategory.exists().where(KbCategory.id == category):
        raise InvalidRequest(f"category {category} does not exist")


async def save_article(*, article_id: int | None, slug: str | None, category: int | None, visibility: str,
                       brands: list[str], tags: list[str], position: int = 0) -> int:
    """Create or update an article's own fields (not its texts: save_translation)."""
    if visibility not in VISIBILITIES:
        raise InvalidRequest(f"visibility must be one of {', '.join(VISIBILITIES)}")
    await _check_category(category)
    brand_keys = sorted({str(b).strip() for b in brands if str(b).strip()})
    for key in brand_keys:
        _slug_or_400(key)
    values = {KbArticle.category: category, KbArticle.visibility: visibility, KbArticle.brands: dumps(brand_keys),
              KbArticle.tags: dumps(clean_tags(tags)), KbArticle.position: position, KbArticle.updated_at: now()}
    if slug is not None:
        values[KbArticle.slug] = _slug_or_400(slug)
    if values.get(KbArticle.slug) is not None:
        clash = KbArticle.slug == values[KbArticle.slug]
        if article_id is not None:
            clash &= KbArticle.id != article_id
        if await KbArticle.exists().where(clash):
            raise Conflict(f"another article already has the slug {values[KbArticle.slug]!r}")
    if article_id is None:
        import secrets

        values.setdefault(KbArticle.slug, f"article-{secrets.token_hex(4)}")
        row = (await KbArticle.insert(KbArticle(**{c._meta.name: v for c, v in values.items()}))
               .returning(KbArticle.id))[0]
        cache.clear()
        return row["id"]
    if not await KbArticle.exists().where(KbArticle.id == article_id):
        raise NotFound(f"article {article_id} does not exist")
    await KbArticle.update(values).where(KbArticle.id == article_id)
    cache.clear()
    return article_id


async def save_translation(article_id: int, language: str, *, title: str, body_html: str, status: str,
                           author: str, note: str = "") -> dict[str, Any]:
    """Store the text of one language (body_html already sanitized) as a new revision. Saving the
    same title, body and status again stores nothing."""
    language = language_or_400(language)
    title = (title or "").strip()
    if not title or len(title) > MAX_TITLE:
        raise InvalidRequest(f"the title is 1 to {MAX_TITLE} characters")
    if status not in STATUSES:
        raise InvalidRequest(f"status must be one of {', '.join(STATUSES)}")
    if not await KbArticle.exists().where(KbArticle.id == article_id):
        raise NotFound(f"article {article_id} does not exist")
    async with db.transaction():
        current = await KbTranslation.select().where(
            (KbTranslation.article == article_id) & (KbTranslation.language == language)).first()
        if current and (current["title"], current["body_html"], current["status"]) == (title, body_html, status):
            return _translation_out(current)
        last = await KbRevision.select(KbRevision.number).where(
            (KbRevision.article == article_id) & (KbRevision.language == language)
        ).order_by(KbRevision.number, ascending=False).first()
        number = (last["number"] if last else 0) + 1
        await KbRevision.insert(KbRevision(article=article_id, language=language, number=number, title=title,
                                           body_html=body_html, status=status, author=author[:100],
                                           note=note[:300]))
        stamp = now()
        published_at = (current["published_at"] if current and current["status"] == "published" else stamp) \
            if status == "published" else None
        if current is None:
            row = (await KbTranslation.insert(KbTranslation(
                article=article_id, language=language, title=title, body_html=body_html, status=status,
                revision=number, updated_at=stamp, published_at=published_at)).returning(KbTranslation.id))[0]
            translation_id = row["id"]
        else:
            translation_id = current["id"]
            await KbTranslation.update({KbTranslation.title: title, KbTranslation.body_html: body_html,
                                        KbTranslation.status: status, KbTranslation.revision: number,
                                        KbTranslation.updated_at: stamp, KbTranslation.published_at: published_at}
                                       ).where(KbTranslation.id == translation_id)
        await KbArticle.update({KbArticle.updated_at: stamp}).where(KbArticle.id == article_id)
        await index_translation(translation_id, title, body_html, status == "published")
    cache.clear()
    found = await KbTranslation.select().where(KbTranslation.id == translation_id).first()
    return _translation_out(found)


async def delete_translation(article_id: int, language: str) -> None:
    language = language_or_400(language)
    row = await KbTranslation.select(KbTranslation.id).where(
        (KbTranslation.article == article_id) & (KbTranslation.language == language)).first()
    if row is None:
        raise NotFound(f"article {article_id} has no {language} text")
    async with db.transaction():
        await KbTerm.delete().where(KbTerm.translation == row["id"])
        await KbTranslation.delete().where(KbTranslation.id == row["id"])
    cache.clear()


async def delete_article(article_id: int) -> None:
    if not await KbArticle.exists().where(KbArticle.id == article_id):
        raise NotFound(f"article {article_id} does not exist")
    async with db.transaction():
        ids = [r["id"] for r in await KbTranslation.select(KbTranslation.id).where(KbTranslation.article == article_id)]
        if ids:
            await KbTerm.delete().where(KbTerm.translation.is_in(ids))
        await KbTranslation.delete().where(KbTranslation.article == article_id)
        await KbRevision.delete().where(KbRevision.article == article_id)
        await KbArticle.delete().where(KbArticle.id == article_id)
    cache.clear()


# --- revisions ------------------------------------------------------------------------------------


def _revision_out(row: dict[str, Any], with_body: bool = True) -> dict[str, Any]:
    out = {"number": row["number"], "title": row["title"], "status": row["status"], "author": row["author"],
           "note": row["note"], "created_at": row["created_at"].isoformat()}
    if with_body:
        out["body_html"] = row["body_html"]
    return out


async def revisions(article_id: int, language: str) -> list[dict[str, Any]]:
    language = language_or_400(language)
    rows = await KbRevision.select().where((KbRevision.article == article_id) & (KbRevision.language == language)
                                           ).order_by(KbRevision.number, ascending=False)
    if not rows and not await KbArticle.exists().where(KbArticle.id == article_id):
        raise NotFound(f"article {article_id} does not exist")
    return [_revision_out(r, with_body=False) for r in rows]


async def revision(article_id: int, language: str, number: int) -> dict[str, Any]:
    language = language_or_400(language)
    row = await KbRevision.select().where((KbRevision.article == article_id) & (KbRevision.language == language)
                                          & (KbRevision.number == number)).first()
    if row is None:
        raise NotFound(f"article {article_id} has no {language} revision {number}")
    return _revision_out(row)


def _lines(html: str) -> list[str]:
    """HTML broken after block ends, so a diff shows paragraphs rather than one long line."""
    return re.sub(r"(</(?:p|h[1-6]|li|tr|table|ul|ol|blockquote|pre|div)>|<br\s*/?>)", r"\1\n", html).splitlines()


async def diff(article_id: int, language: str, old: int, new: int) -> dict[str, Any]:
    a = await revision(article_id, language, old)
    b = await revision(article_id, language, new)
    lines = list(difflib.unified_diff([f"title: {a['title']}", f"status: {a['status']}", *_lines(a["body_html"])],
                                      [f"title: {b['title']}", f"status: {b['status']}", *_lines(b["body_html"])],
                                      fromfile=f"revision {old}", tofile=f"revision {new}", lineterm=""))
    return {"from": old, "to": new, "diff": "\n".join(lines), "changed": bool(lines)}


async def restore(article_id: int, language: str, number: int, author: str) -> dict[str, Any]:
    """Make an old revision current again, as a new revision (history is never rewritten)."""
    old = await revision(article_id, language, number)
    return await save_translation(article_id, language, title=old["title"], body_html=old["body_html"],
                                  status=old["status"], author=author, note=f"restored revision {number}")


# --- search index ---------------------------------------------------------------------------------


async def index_translation(translation_id: int, title: str, body_html: str, published: bool) -> None:
    await KbTerm.delete().where(KbTerm.translation == translation_id)
    if not published:
        return
    weights: dict[str, int] = {}
    for term in terms(plain_text(body_html)):
        weights[term[:MAX_TERM]] = 1
    for term in terms(title):
        weights[term[:MAX_TERM]] = 3
    rows = [KbTerm(term=t, translation=translation_id, weight=w) for t, w in weights.items()]
    for start in range(0, len(rows), 300):
        await KbTerm.insert(*rows[start:start + 300])
