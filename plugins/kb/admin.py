"""The knowledge base in the inbox: article list, the editor (per language, with revisions, diff
and restore), categories and sections. Agents (any role) read, including internal articles;
supervisors and admins write. Forms post with the session's CSRF token like every inbox form.

Pages are the plugin's own templates (its catalogs) placed inside the inbox's base.html, so the
top bar, sign-out and shortcuts are the inbox's own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from litestar import Request, get, post
from litestar.response import Redirect, Template
from litestar.utils.scope.state import ScopeState
from markupsafe import Markup

from core.plugin_api import InvalidRequest, NotFound
from core.plugin_api import ROLE_RANK
from plugins.kb import stats, store, theme
from plugins.kb.content import normalize_language
from web.plugin_api import i18n
from web.plugin_api import form_value, inbox_page as page
from web.plugin_api import PluginTemplates
from web.plugin_api import page_guard, session_agent

templates = PluginTemplates(Path(__file__).parent)
_ = templates.translator
BASE = "/inbox/kb"
WRAP = "{% extends 'base.html' %}{% block title %}{{ page_title }} · Relaydesk{% endblock %}{% block main %}{{ body }}{% endblock %}"


async def _page(request: Request, name: str, title: str, status: int = 200, **context: Any) -> Template:
    agent = await session_agent(request)  # sets the agent's language for the fragment below
    token = ScopeState.from_scope(request.scope).csrf_token
    can_write = ROLE_RANK.get(agent["role"], -1) >= ROLE_RANK["supervisor"] if agent else False
    body = templates.render(name, csrf=token, can_write=can_write, base=BASE, **context)
    shell = await page(request, "base.html", status_code=status)
    return Template(template_str=WRAP, status_code=status,
                    context={**shell.context, "body": Markup(body), "page_title": title})


def _lines(value: str) -> list[str]:
    return [v.strip() for v in value.replace("\n", ",").split(",") if v.strip()]


@get(BASE, include_in_schema=False, guards=[page_guard("readonly")])
async def kb_list(request: Request, q: str = "") -> Template:
    articles = await store.list_articles()
    if q.strip():
        needle = q.strip().lower()
        articles = [a for a in articles if needle in a["slug"] or needle in " ".join(a["tags"])
                    or any(needle in t["title"].lower() for t in a["translations"].values())]
    cats = {c["id"]: c for c in await store.categories()}
    figures = await stats.report(None, None)
    return await _page(request, "admin/list.html", _("Knowledge base"), articles=articles, categories=cats,
                       q=q, figures=figures, brands=await theme.brands(),
                       agent_language=i18n.current_language.get(), is_admin=bool(
                           (await session_agent(request) or {}).get("role") == "admin"))


def _category_label(cats: list[dict[str, Any]], category: dict[str, Any]) -> str:
    name = category["names"].get("en") or next(iter(category["names"].values()), category["slug"])
    if category["parent"] is not None:
        parent = next((c for c in cats if c["id"] == category["parent"]), None)
        if parent:
            return _category_label(cats, parent) + " › " + name
    return name


async def _editor(request: Request, article: dict[str, Any] | None, language: str, status: int = 200,
                  problem: str | None = None, draft: dict[str, Any] | None = None) -> Template:
    cats = await store.categories()
    options = sorted(({"id": c["id"], "label": _category_label(cats, c)} for c in cats), key=lambda o: o["label"])
    revisions = await store.revisions(article["id"], language) if article else []
    text = (article or {}).get("translations", {}).get(language) if article else None
    title = (text or {}).get("title") or _("New article")
    return await _page(request, "admin/edit.html", title, status=status, article=article, language=language,
                       text=text, revisions=revisions, categories=options, problem=problem, draft=draft or {},
                       brands=await theme.brands())


@get(BASE + "/articles/new", include_in_schema=False, guards=[page_guard("supervisor")])
async def kb_new(request: Request, lang: str = "en") -> Template:
    return await _editor(request, None, normalize_language(lang) or "en")


@get(BASE + "/articles/{article_id:int}", include_in_schema=False, guards=[page_guard("readonly")])
async def kb_edit(request: Request, article_id: int, lang: str = "") -> Template:
    article = await store.get_article(article_id)
    language = normalize_language(lang) or next(iter(article["translations"]), "en")
    return await _editor(request, article, language)


@post(BASE + "/articles", include_in_schema=False, guards=[page_guard("supervisor")])
async def kb_save(request: Request) -> Any:
    """Create or save an article and its text in one language (a new revision when it changed)."""
    agent = await session_agent(request)
    form = await request.form()
    raw_id = form_value(form, "id")
    article_id = int(raw_id) if raw_id.isdigit() else None
    language = normalize_language(form_value(form, "language"))
    article = await store.get_article(article_id) if article_id else None
    draft = {k: form_value(form, k) for k in ("slug", "category", "visibility", "brands", "tags", "title", "status",
                                              "format")}
    draft["body"] = str(form.get("body") or "")
    if language is None:
        return await _editor(request, article, "en", 400, _("Give a language code such as zh, en or pt-br."), draft)
    try:
        body = store.body_from(draft["body"] if draft["format"] != "markdown" else None,
                               draft["body"] if draft["format"] == "markdown" else None)
        category = int(draft["category"]) if draft["category"].isdigit() else None
        article_id = await store.save_article(
            article_id=article_id, slug=draft["slug"] or None, category=category,
            visibility=draft["visibility"] or "public", brands=_lines(draft["brands"]), tags=_lines(draft["tags"]),
            position=article["position"] if article else 0)
        await store.save_translation(article_id, language, title=draft["title"], body_html=body,
                                     status=draft["status"] or "draft", author=f"agent:{agent['id']}",
                                     note=form_value(form, "note"))
    except (InvalidRequest, NotFound) as exc:
        return await _editor(request, article, language, 400, exc.message, draft)
    except Exception as exc:  # a Conflict (slug taken) reads the same way to the writer
        if not hasattr(exc, "status_code") or exc.status_code >= 500:  # type: ignore[attr-defined]
            raise
        return await _editor(request, article, language, exc.status_code, exc.message, draft)  # type: ignore[attr-defined]
    return Redirect(path=f"{BASE}/articles/{article_id}?" + urlencode({"lang": language}))


@get(BASE + "/articles/{article_id:int}/diff", include_in_schema=False, guards=[page_guard("readonly")])
async def kb_diff(request: Request, article_id: int, lang: str, to: int, from_: int = 0) -> Template:
    language = normalize_language(lang) or "en"
    start = from_ or max(1, to - 1)
    found = await store.diff(article_id, language, start, to)
    article = await store.get_article(article_id, with_body=False)
    return await _page(request, "admin/diff.html", _("Changes"), article=article, language=language,
                       diff=found, lines=found["diff"].splitlines())


@post(BASE + "/articles/{article_id:int}/restore", include_in_schema=False, guards=[page_guard("supervisor")])
async def kb_restore(request: Request, article_id: int) -> Redirect:
    agent = await session_agent(request)
    form = await request.form()
    language = normalize_language(form_value(form, "language")) or "en"
    number = form_value(form, "number")
    if not number.isdigit():
        raise InvalidRequest("choose a revision to restore")
    await store.restore(article_id, language, int(number), f"agent:{agent['id']}")
    return Redirect(path=f"{BASE}/articles/{article_id}?" + urlencode({"lang": language}))


@post(BASE + "/articles/{article_id:int}/delete", include_in_schema=False, guards=[page_guard("supervisor")])
async def kb_delete(request: Request, article_id: int) -> Redirect:
    await store.delete_article(article_id)
    return Redirect(path=BASE)


@get(BASE + "/categories", include_in_schema=False, guards=[page_guard("supervisor")])
async def kb_categories(request: Request, edit: int | None = None) -> Template:
    cats = await store.categories()
    current = next((c for c in cats if c["id"] == edit), None)
    return await _page(request, "admin/categories.html", _("Categories"), categories=cats, current=current,
                       labels={c["id"]: _category_label(cats, c) for c in cats}, problem=None)


@post(BASE + "/categories", include_in_schema=False, guards=[page_guard("supervisor")])
async def kb_category_save(request: Request) -> Any:
    form = await request.form()
    raw_id, parent = form_value(form, "id"), form_value(form, "parent")
    names: dict[str, str] = {}
    for line in str(form.get("names") or "").splitlines():
        if ":" in line:
            code, name = line.split(":", 1)
            names[code.strip()] = name.strip()
    try:
        await store.save_category(category_id=int(raw_id) if raw_id.isdigit() else None, slug=form_value(form, "slug"),
                                  names=names, parent=int(parent) if parent.isdigit() else None,
                                  position=int(form_value(form, "position") or 0)
                                  if form_value(form, "position").lstrip("-").isdigit() else 0)
    except Exception as exc:
        if getattr(exc, "status_code", 500) >= 500:
            raise
        cats = await store.categories()
        return await _page(request, "admin/categories.html", _("Categories"), status=exc.status_code,  # type: ignore[attr-defined]
                           categories=cats, current=None, labels={c["id"]: _category_label(cats, c) for c in cats},
                           problem=exc.message)  # type: ignore[attr-defined]
    return Redirect(path=f"{BASE}/categories")


@post(BASE + "/categories/{category_id:int}/delete", include_in_schema=False, guards=[page_guard("supervisor")])
async def kb_category_delete(request: Request, category_id: int) -> Redirect:
    await store.delete_category(category_id)
    return Redirect(path=f"{BASE}/categories")


@get(BASE + "/brands", include_in_schema=False, guards=[page_guard("admin")])
async def kb_brands(request: Request, edit: str = "") -> Template:
    found = await theme.brands()
    current = next((b for b in found if b["key"] == edit), None)
    return await _page(request, "admin/brands.html", _("Help centers"), brands=found, current=current, problem=None)


@post(BASE + "/brands", include_in_schema=False, guards=[page_guard("admin")])
async def kb_brand_save(request: Request) -> Any:
    form = await request.form()
    values = {k: form_value(form, k) for k in ("key", "name", "logo_url", "primary_color", "background_color",
                                               "text_color")}
    templates_ = {k: str(form.get(k) or "") for k in ("header_template", "footer_template")}
    try:
        await theme.save_brand(values.pop("key"), languages=_lines(form_value(form, "languages")), **values,
                               **templates_)
    except Exception as exc:
        if getattr(exc, "status_code", 500) >= 500:
            raise
        return await _page(request, "admin/brands.html", _("Help centers"), status=exc.status_code,  # type: ignore[attr-defined]
                           brands=await theme.brands(), current=None, problem=exc.message)  # type: ignore[attr-defined]
    return Redirect(path=f"{BASE}/brands")


def _router() -> Any:
    """The pages in a router with the inbox's error handling: sign-in redirects, error pages."""
    from litestar import Router

    from core.plugin_api import RelaydeskError
    from web.plugin_api import inbox_error

    from plugins.kb.assets import kb_asset, kb_image_upload
    from plugins.kb.panel import use_article

    return Router(path="/", route_handlers=[use_article, kb_asset, kb_image_upload, kb_list, kb_new, kb_edit, kb_save, kb_diff, kb_restore, kb_delete,
                                            kb_categories, kb_category_save, kb_category_delete, kb_brands,
                                            kb_brand_save],
                  exception_handlers={RelaydeskError: inbox_error, Exception: inbox_error})


ROUTES = [_router()]
