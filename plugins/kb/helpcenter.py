"""The public help center: /help/<brand>/<language>/ with categories, search, article pages,
helpful votes, breadcrumbs, related articles, sitemap.xml, canonical and hreflang links.

Server-rendered and script-free (works on any phone), in the page's language, themed per brand.
Rendered pages are cached (plugins.kb.cache) and served with Cache-Control, so the page a customer
gets costs one dictionary lookup after the first visit. The page's Content-Security-Policy allows
no script at all and only its own <style> element, by hash.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Request, Response, get, post
from litestar.response import Redirect

from core.plugin_api import MAX_SEARCH_QUERY as MAX_QUERY
from plugins.kb import cache, public, state, stats
from plugins.kb.tables import KbArticle
from plugins.kb.theme import render_fragment
from web.plugin_api import i18n
from web.plugin_api import client_address

_ = i18n.translator(Path(__file__).parent / "translations")
_env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                   autoescape=select_autoescape(default=True))
PREFIX = "/help"
LANGUAGE_NAMES = {"en": "English", "zh": "简体中文", "zh-tw": "繁體中文", "ja": "日本語", "ko": "한국어",
                  "de": "Deutsch", "fr": "Français", "es": "Español", "it": "Italiano", "pt": "Português",
                  "ru": "Русский", "ar": "العربية", "th": "ไทย", "vi": "Tiếng Việt"}


class _Missing(Exception):
    pass


def _base(request: Request) -> str:
    desk = request.app.state.desk
    configured = getattr(desk.settings, "public_url", "") or ""
    return configured.rstrip("/") or str(request.base_url).rstrip("/")


def _policy(html: str) -> str:
    styles = re.findall(r"<style>(.*?)</style>", html, flags=re.S)
    hashes = " ".join("'sha256-%s'" % base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() for s in styles)
    return (f"default-src 'none'; style-src {hashes or chr(39) + 'none' + chr(39)}; img-src 'self' https: data:; "
            "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")


def _html(html: str, status: int = 200, cacheable: bool = True) -> Response:
    ttl = int(state.settings().cache_seconds)
    headers = {"content-security-policy": _policy(html),
               "cache-control": f"public, max-age={ttl}" if cacheable and status == 200 else "no-store"}
    return Response(html, status_code=status, media_type="text/html; charset=utf-8", headers=headers)


def url(brand: str, language: str, *parts: Any, query: dict[str, str] | None = None) -> str:
    path = "/".join([PREFIX, quote(brand), quote(language), *(quote(str(p)) for p in parts)])
    return path + ("/" if not parts else "") + (f"?{urlencode(query)}" if query else "")


def article_url(brand: str, language: str, article: dict[str, Any]) -> str:
    return url(brand, language, "articles", article["id"], article["slug"])


async def _context(request: Request, brand_key: str, language: str) -> dict[str, Any]:
    brand = await public.brand(brand_key)
    if brand is None or language not in brand["languages"]:
        raise _Missing()
    lib = await public.library(brand_key, language)
    t = (lambda message: _(message, language))
    home = url(brand_key, language)
    values = {"brand": {"key": brand["key"], "name": brand["name"], "logo_url": brand["logo_url"]},
              "language": language, "home_url": home, "languages": brand["languages"]}
    return {"brand": brand, "lib": lib, "language": language, "_": t, "home_url": home,
            "base": _base(request), "url": url, "article_url": article_url,
            "language_names": LANGUAGE_NAMES,
            "header": render_fragment(brand["header_template"], values),
            "footer": render_fragment(brand["footer_template"], values),
            "html_lang": "zh-Hans" if language == "zh" else language}


def _render(name: str, context: dict[str, Any]) -> str:
    return _env.get_template(name).render(**context)


async def _page(request: Request, key: tuple, build: Any, record: tuple[str, str, str] | None = None) -> Response:
    if record:
        stats.record(*record)
    found = cache.get(("page", *key))
    if found is None:
        try:
            found = await build()
        except _Missing:
            found = (404, await _not_found(request, key[0], key[1]))
        cache.put(("page", *key), found, state.settings().cache_seconds)
    status, html = found
    return _html(html, status)


async def _not_found(request: Request, brand_key: str, language: str) -> str:
    brand = await public.brand(brand_key)
    lang = language if brand and language in brand["languages"] else (brand["languages"][0] if brand else "en")
    t = (lambda message: _(message, lang))
    return _render("help/missing.html", {"_": t, "html_lang": lang, "home_url": url(brand_key, lang) if brand else None,
                                          "brand": brand})


def _children(lib: dict[str, Any], parent: int | None) -> list[dict[str, Any]]:
    return [c for c in lib["categories"].values() if c["parent"] == parent]


def _in_category(lib: dict[str, Any], category_id: int) -> list[dict[str, Any]]:
    ids = {category_id} | {c["id"] for c in _children(lib, category_id)}
    return [a for a in lib["articles"].values() if a["category"] in ids]


def _trail(lib: dict[str, Any], category_id: int | None) -> list[dict[str, Any]]:
    trail = []
    while category_id is not None and category_id in lib["categories"]:
        category = lib["categories"][category_id]
        trail.insert(0, category)
        category_id = category["parent"]
    return trail


def _alternates(ctx: dict[str, Any], languages: list[str], path_for: Any) -> list[dict[str, str]]:
    out = [{"lang": lang, "href": ctx["base"] + path_for(lang), "path": path_for(lang)}
           for lang in languages if lang in ctx["brand"]["languages"]]
    if out:
        default = ctx["brand"]["languages"][0]
        chosen = path_for(default if default in languages else languages[0])
        out.append({"lang": "x-default", "href": ctx["base"] + chosen, "path": chosen})
    return out


@get(PREFIX, include_in_schema=False)
async def help_root(request: Request) -> Response:
    brands = await public.brand_keys()
    if not brands:
        return _html(await _not_found(request, "", "en"), 404, cacheable=False)
    return Redirect(path=f"{PREFIX}/{quote(brands[0])}/")


@get(PREFIX + "/{brand_key:str}", include_in_schema=False)
async def help_brand(request: Request, brand_key: str) -> Response:
    brand = await public.brand(brand_key)
    if brand is None:
        return _html(await _not_found(request, brand_key, "en"), 404, cacheable=False)
    wanted = _accepted(request.headers.get("accept-language", ""), brand["languages"])
    return Redirect(path=url(brand_key, wanted))


def _accepted(header: str, languages: list[str]) -> str:
    """The first of the brand's languages the browser asks for (Accept-Language), else its default."""
    for part in header.split(","):
        code = part.split(";")[0].strip().lower()
        for candidate in (code, code.split("-")[0]):
            if candidate in languages:
                return candidate
            if candidate.startswith("zh") and "zh" in languages:
                return "zh"
    return languages[0]


@get(PREFIX + "/{brand_key:str}/{language:str}", include_in_schema=False)
async def help_home(request: Request, brand_key: str, language: str) -> Response:
    async def build() -> tuple[int, str]:
        ctx = await _context(request, brand_key, language)
        lib = ctx["lib"]
        sections = []
        for category in _children(lib, None):
            articles = _in_category(lib, category["id"])
            if articles:
                sections.append({"category": category, "count": len(articles), "top": articles[:5]})
        ctx.update(sections=sections, canonical=ctx["base"] + url(brand_key, language),
                   alternates=_alternates(ctx, ctx["brand"]["languages"], lambda lang: url(brand_key, lang)),
                   title=ctx["brand"]["name"], trail=[], query="",
                   uncategorized=[a for a in lib["articles"].values() if a["category"] is None][:10])
        return 200, _render("help/home.html", ctx)

    return await _page(request, (brand_key, language, "home"), build)


@get(PREFIX + "/{brand_key:str}/{language:str}/categories/{category_id:int}", include_in_schema=False)
async def help_category(request: Request, brand_key: str, language: str, category_id: int) -> Response:
    async def build() -> tuple[int, str]:
        ctx = await _context(request, brand_key, language)
        lib = ctx["lib"]
        category = lib["categories"].get(category_id)
        if category is None:
            raise _Missing()
        groups = [{"section": None, "articles": [a for a in lib["articles"].values() if a["category"] == category_id]}]
        groups += [{"section": s, "articles": [a for a in lib["articles"].values() if a["category"] == s["id"]]}
                   for s in _children(lib, category_id)]
        path = (lambda lang: url(brand_key, lang, "categories", category_id))
        ctx.update(category=category, groups=[g for g in groups if g["articles"]], title=category["name"],
                   trail=_trail(lib, category["parent"]), canonical=ctx["base"] + path(language),
                   alternates=_alternates(ctx, ctx["brand"]["languages"], path), query="")
        return 200, _render("help/category.html", ctx)

    return await _page(request, (brand_key, language, "category", category_id), build)


async def _article_page(request: Request, brand_key: str, language: str, article_id: int) -> Response:
    async def build() -> tuple[int, str]:
        ctx = await _context(request, brand_key, language)
        lib = ctx["lib"]
        article = lib["articles"].get(article_id)
        if article is None:
            raise _Missing()
        languages = await public.article_languages(article_id)
        path = (lambda lang: article_url(brand_key, lang, article))
        ctx.update(article=article, title=article["title"], trail=_trail(lib, article["category"]),
                   related=public.related(lib, article), canonical=ctx["base"] + path(language),
                   alternates=_alternates(ctx, languages, path), query="",
                   vote_url=url(brand_key, language, "articles", article_id, "vote"))
        return 200, _render("help/article.html", ctx)

    voted = request.query_params.get("voted")
    if voted in ("yes", "no"):  # the thank-you variant after a vote: not cached, not a view
        try:
            ctx_page = await build()
        except _Missing:
            return _html(await _not_found(request, brand_key, language), 404, cacheable=False)
        thanks = _("Thanks for your feedback!", language)
        html = ctx_page[1].replace("<!--vote-->", f'<p class="thanks" role="status">{thanks}</p>')
        return _html(html, ctx_page[0], cacheable=False)
    return await _page(request, (brand_key, language, "article", article_id), build,
                       record=("view", brand_key, language))


@get(PREFIX + "/{brand_key:str}/{language:str}/articles/{article_id:int}", include_in_schema=False)
async def help_article(request: Request, brand_key: str, language: str, article_id: int) -> Response:
    return await _article_page(request, brand_key, language, article_id)


@get(PREFIX + "/{brand_key:str}/{language:str}/articles/{article_id:int}/{slug:str}", include_in_schema=False)
async def help_article_slug(request: Request, brand_key: str, language: str, article_id: int, slug: str) -> Response:
    return await _article_page(request, brand_key, language, article_id)


@get(PREFIX + "/{brand_key:str}/{language:str}/search", include_in_schema=False)
async def help_search(request: Request, brand_key: str, language: str, q: str = "") -> Response:
    query = q.strip()[:MAX_QUERY]

    async def build() -> tuple[int, str]:
        ctx = await _context(request, brand_key, language)
        results = await public.search(brand_key, language, query) if query else []
        ctx.update(results=results, query=query, title=ctx["_"]("Search"), trail=[],
                   canonical=ctx["base"] + url(brand_key, language, "search"), alternates=[], noindex=True)
        return 200, _render("help/search.html", ctx)

    response = await _page(request, (brand_key, language, "search", query), build)
    if query and response.status_code == 200:
        stats.record("search", brand_key, language)
        if 'data-results="0"' in str(response.content):
            stats.record("search_empty", brand_key, language)
    return response


@get(PREFIX + "/{brand_key:str}/{language:str}/search.json", include_in_schema=False)
async def help_search_json(request: Request, brand_key: str, language: str, q: str = "", source: str = "") -> Response:
    """The same search for the contact widget (plugins/webchat): titles, links and excerpts as JSON."""
    brand = await public.brand(brand_key)
    if brand is None or language not in brand["languages"]:
        return Response({"error": {"code": "not_found", "message": "no such help center"}}, status_code=404)
    query = q.strip()[:MAX_QUERY]
    found = await public.search(brand_key, language, query, limit=8) if query else []
    if query:
        stats.record("widget_search" if source == "widget" else "search", brand_key, language)
        if not found:
            stats.record("widget_search_empty" if source == "widget" else "search_empty", brand_key, language)
    return Response({"results": [{"title": a["title"], "url": article_url(brand_key, language, a),
                                  "excerpt": a["excerpt"]} for a in found]},
                    headers={"cache-control": f"public, max-age={int(state.settings().cache_seconds)}"})


# One vote per address and article per day; kept in memory and bounded (a restart forgets it).
_votes: dict[tuple[str, int], float] = {}
MAX_VOTERS = 50_000


@post(PREFIX + "/{brand_key:str}/{language:str}/articles/{article_id:int}/vote", include_in_schema=False,
      opt={"exclude_from_csrf": True}, status_code=303)
async def help_vote(request: Request, brand_key: str, language: str, article_id: int) -> Response:
    """A "was this helpful?" vote. The form has a hidden honeypot field a person leaves empty."""
    form = await request.form()
    helpful = str(form.get("helpful") or "")
    back = url(brand_key, language, "articles", article_id)
    if helpful not in ("yes", "no"):
        return Response(_("Choose yes or no.", language), status_code=400, media_type="text/plain")
    if form.get("website"):  # the honeypot: only bots fill it; answer as if counted
        return Redirect(path=back + f"?voted={helpful}", status_code=303)
    lib = await public.library(brand_key, language)
    if article_id not in lib["articles"]:
        return _html(await _not_found(request, brand_key, language), 404, cacheable=False)
    voter = (client_address(request, request.app.state.desk.settings.trusted_proxies), article_id)
    now = time.time()
    if _votes.get(voter, 0) < now - 86400:
        if len(_votes) >= MAX_VOTERS:
            _votes.clear()
        _votes[voter] = now
        column = KbArticle.helpful_yes if helpful == "yes" else KbArticle.helpful_no
        await KbArticle.update({column: column + 1}).where(KbArticle.id == article_id)
        stats.record("vote_yes" if helpful == "yes" else "vote_no", brand_key, language)
    return Redirect(path=back + f"?voted={helpful}", status_code=303)


@get(PREFIX + "/{brand_key:str}/sitemap.xml", include_in_schema=False)
async def help_sitemap(request: Request, brand_key: str) -> Response:
    async def build() -> tuple[int, str]:
        brand = await public.brand(brand_key)
        if brand is None:
            return 404, ""
        base = _base(request)
        entries = []
        for language in brand["languages"]:
            lib = await public.library(brand_key, language)
            entries.append({"loc": base + url(brand_key, language), "lastmod": None})
            for category in lib["categories"].values():
                if _in_category(lib, category["id"]):
                    entries.append({"loc": base + url(brand_key, language, "categories", category["id"]),
                                    "lastmod": None})
            for article in lib["articles"].values():
                entries.append({"loc": base + article_url(brand_key, language, article),
                                "lastmod": article["updated_at"].date().isoformat() if article["updated_at"] else None})
        return 200, _render("help/sitemap.xml", {"entries": entries})

    key = ("page", brand_key, "sitemap")
    found = cache.get(key)
    if found is None:
        found = await build()
        cache.put(key, found, state.settings().cache_seconds)
    if found[0] != 200:
        return Response("", status_code=404, media_type="text/plain")
    return Response(found[1], media_type="application/xml",
                    headers={"cache-control": f"public, max-age={int(state.settings().cache_seconds)}"})


from plugins.kb.assets import kb_image  # noqa: E402  (served under /help like the pages)

ROUTES = [kb_image, help_root, help_brand, help_home, help_category, help_article, help_article_slug, help_search,
          help_search_json, help_vote, help_sitemap]
