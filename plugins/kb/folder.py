"""A whole knowledge base as a folder of files: `categories.yaml` and one file per article and
language, `<article slug>/<language>.html` (or `.md`), each opening with YAML front matter.

    ---
    slug: shipping-times
    language: en
    title: How long does shipping take?
    status: published
    visibility: public
    category: shipping/delivery      # a category slug, or category/section
    brands: []
    tags: [shipping]
    ---
    <p>Orders leave our warehouse within 24 hours...</p>

Export writes .html (the stored, sanitized body: a round trip loses nothing). Import takes .html
and .md, matches articles by slug (updating them, each changed text a new revision) and creates
what is new. Every file is read and checked before anything is written, so a bad file is a 400
that names it and leaves the knowledge base as it was. The API moves the folder as a zip file.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import PurePosixPath
from typing import Any

import yaml

from core.plugin_api import InvalidRequest
from plugins.kb import store
from plugins.kb.tables import KbArticle, KbCategory, KbTranslation

MAX_FILES = 5000
MAX_UNPACKED = 100_000_000


def _front_matter(name: str, text: str) -> tuple[dict[str, Any], str]:
    if not text.startswith("---"):
        raise InvalidRequest(f"{name}: the file must open with YAML front matter between --- lines")
    parts = text.split("\n---", 1)
    if len(parts) != 2:
        raise InvalidRequest(f"{name}: the front matter has no closing --- line")
    try:
        meta = yaml.safe_load(parts[0][3:]) or {}
    except yaml.YAMLError as exc:
        raise InvalidRequest(f"{name}: the front matter is not valid YAML ({str(exc)[:200]})") from None
    if not isinstance(meta, dict):
        raise InvalidRequest(f"{name}: the front matter must be a mapping of keys to values")
    body = parts[1].split("\n", 1)[1] if "\n" in parts[1] else ""
    return meta, body


def _dump(meta: dict[str, Any], body: str) -> str:
    return "---\n" + yaml.safe_dump(meta, allow_unicode=True, sort_keys=False) + "---\n" + body + "\n"


async def export_files() -> dict[str, str]:
    """{path: text} of the whole knowledge base."""
    cats = await KbCategory.select().order_by(KbCategory.position).order_by(KbCategory.id)
    by_id = {c["id"]: c for c in cats}

    def path_of(category_id: int | None) -> str | None:
        row = by_id.get(category_id) if category_id is not None else None
        if row is None:
            return None
        parent = by_id.get(row["parent"]) if row["parent"] is not None else None
        return f"{parent['slug']}/{row['slug']}" if parent else row["slug"]

    files: dict[str, str] = {}
    categories = [{"slug": c["slug"], "parent": by_id[c["parent"]]["slug"] if c["parent"] in by_id else None,
                   "names": store.loads(c["names"], {}), "position": c["position"]} for c in cats]
    files["categories.yaml"] = yaml.safe_dump(categories, allow_unicode=True, sort_keys=False)
    articles = await KbArticle.select().order_by(KbArticle.id)
    texts = await KbTranslation.select().order_by(KbTranslation.language)
    by_article: dict[int, list[dict[str, Any]]] = {}
    for t in texts:
        by_article.setdefault(t["article"], []).append(t)
    for a in articles:
        for t in by_article.get(a["id"], []):
            meta = {"slug": a["slug"], "language": t["language"], "title": t["title"], "status": t["status"],
                    "visibility": a["visibility"], "category": path_of(a["category"]),
                    "brands": store.loads(a["brands"], []), "tags": store.loads(a["tags"], []),
                    "position": a["position"]}
            files[f"{a['slug']}/{t['language']}.html"] = _dump(meta, t["body_html"])
    return files


async def export_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, text in (await export_files()).items():
            archive.writestr(f"kb/{path}", text)
    return buffer.getvalue()


def files_from_zip(data: bytes) -> dict[str, str]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise InvalidRequest("the body is not a zip file") from None
    entries = [e for e in archive.infolist() if not e.is_dir()]
    if len(entries) > MAX_FILES:
        raise InvalidRequest(f"the archive holds more than {MAX_FILES} files")
    if sum(e.file_size for e in entries) > MAX_UNPACKED:
        raise InvalidRequest(f"the archive unpacks to more than {MAX_UNPACKED} bytes")
    files: dict[str, str] = {}
    names = [PurePosixPath(e.filename) for e in entries]
    # a single top folder (kb/ as export writes it) is the root
    tops = {n.parts[0] for n in names if len(n.parts) > 1}
    strip = 1 if len(tops) == 1 and all(len(n.parts) > 1 for n in names) else 0
    for entry, name in zip(entries, names):
        if ".." in name.parts or name.is_absolute():
            raise InvalidRequest(f"{entry.filename}: paths may not leave the folder")
        relative = "/".join(name.parts[strip:])
        if name.name.startswith(".") or relative.startswith("__MACOSX"):
            continue
        try:
            files[relative] = archive.read(entry).decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidRequest(f"{entry.filename}: not UTF-8 text") from None
    return files


def _category_key(value: Any, name: str) -> tuple[str, ...] | None:
    if value in (None, ""):
        return None
    parts = tuple(p for p in str(value).strip("/").split("/") if p)
    if not 1 <= len(parts) <= 2:
        raise InvalidRequest(f"{name}: category is 'category' or 'category/section', not {value!r}")
    return parts


async def import_files(files: dict[str, str], author: str) -> dict[str, int]:
    """Check every file, then write. Returns counts of what was created or changed."""
    cats_raw = yaml.safe_load(files.get("categories.yaml", "") or "[]") if "categories.yaml" in files else []
    if not isinstance(cats_raw, list):
        raise InvalidRequest("categories.yaml must be a list of categories")
    planned_cats: list[dict[str, Any]] = []
    for item in cats_raw:
        if not isinstance(item, dict) or not item.get("slug") or not isinstance(item.get("names", {}), dict):
            raise InvalidRequest("categories.yaml: each category needs a slug and names: {language: name}")
        planned_cats.append(item)
    articles: dict[str, dict[str, Any]] = {}
    for path in sorted(files):
        if path == "categories.yaml":
            continue
        suffix = PurePosixPath(path).suffix.lower()
        if suffix not in (".html", ".htm", ".md", ".markdown"):
            continue
        meta, body = _front_matter(path, files[path])
        slug = str(meta.get("slug") or PurePosixPath(path).parent.name or "").strip()
        language = store.language_or_400(str(meta.get("language") or PurePosixPath(path).stem))
        status = str(meta.get("status") or "draft")
        visibility = str(meta.get("visibility") or "public")
        if status not in store.STATUSES or visibility not in store.VISIBILITIES:
            raise InvalidRequest(f"{path}: status is draft or published, visibility public or internal")
        if not str(meta.get("title") or "").strip():
            raise InvalidRequest(f"{path}: the front matter needs a title")
        for key in ("brands", "tags"):
            if not isinstance(meta.get(key, []) or [], list):
                raise InvalidRequest(f"{path}: {key} must be a list")
        html = body if suffix in (".html", ".htm") else None
        markdown = body if html is None else None
        try:
            store._slug_or_400(slug)
            store.clean_tags(meta.get("tags") or [])
            clean = store.body_from(html, markdown)
        except InvalidRequest as exc:
            raise InvalidRequest(f"{path}: {exc.message}") from None
        entry = articles.setdefault(slug, {"texts": {}})
        entry.update(visibility=visibility, category=_category_key(meta.get("category"), path),
                     brands=meta.get("brands") or [], tags=meta.get("tags") or [],
                     position=int(meta.get("position") or 0))
        entry["texts"][language] = {"title": str(meta["title"]).strip(), "body_html": clean, "status": status}

    counts = {"categories": 0, "articles_created": 0, "texts_changed": 0}
    existing = await KbCategory.select()
    by_id = {c["id"]: c for c in existing}
    category_ids: dict[tuple[str, ...], int] = {}
    for c in existing:
        key = (c["slug"],) if c["parent"] is None else (by_id[c["parent"]]["slug"], c["slug"]) \
            if c["parent"] in by_id else None
        if key:
            category_ids[key] = c["id"]
    for item in sorted(planned_cats, key=lambda i: i.get("parent") is not None):
        parent_slug = item.get("parent")
        key = (parent_slug, item["slug"]) if parent_slug else (item["slug"],)
        parent_id = category_ids.get((parent_slug,)) if parent_slug else None
        if parent_slug and parent_id is None:
            raise InvalidRequest(f"categories.yaml: {item['slug']} names a parent {parent_slug!r} that is not listed")
        saved = await store.save_category(category_id=category_ids.get(key), slug=str(item["slug"]),
                                          names={str(k): str(v) for k, v in (item.get("names") or {}).items()},
                                          parent=parent_id, position=int(item.get("position") or 0))
        category_ids[key] = saved["id"]
        counts["categories"] += 1
    for slug, entry in articles.items():
        if entry["category"] is not None and entry["category"] not in category_ids:
            raise InvalidRequest(f"{slug}: category {'/'.join(entry['category'])!r} is neither in the desk "
                                 "nor in categories.yaml")
    for slug, entry in articles.items():
        row = await KbArticle.select(KbArticle.id).where(KbArticle.slug == slug).first()
        category = category_ids.get(entry["category"]) if entry["category"] else None
        article_id = await store.save_article(article_id=row["id"] if row else None, slug=slug, category=category,
                                              visibility=entry["visibility"], brands=entry["brands"],
                                              tags=entry["tags"], position=entry["position"])
        counts["articles_created"] += row is None
        for language, text in entry["texts"].items():
            before = await KbTranslation.select(KbTranslation.revision).where(
                (KbTranslation.article == article_id) & (KbTranslation.language == language)).first()
            after = await store.save_translation(article_id, language, author=author, note="imported", **text)
            counts["texts_changed"] += (before or {}).get("revision") != after["revision"]
    return counts
