"""/api/v1/plugins/kb: categories, articles, their texts per language, revisions (list, diff,
restore), brands with their help-center theme, import and export of the whole knowledge base, and
the deflection figures. Reads need the readonly role, writes supervisor."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, delete, get, post, put
from litestar.params import QueryParameter

from core.plugin_api import Id, Int32
from core.plugin_api import InvalidRequest
from plugins.kb import folder, stats, store, theme
from web.plugin_api import openapi_errors as errors, openapi_with_body as with_body
from web.plugin_api import actor, current_agent, require

Short = Annotated[str, msgspec.Meta(max_length=100)]
Language = Annotated[str, msgspec.Meta(max_length=16)]


class CategoryIn(msgspec.Struct, forbid_unknown_fields=True):
    names: dict[Language, Annotated[str, msgspec.Meta(max_length=200)]]
    slug: Short = ""
    parent: Id | None = None
    position: Int32 = 0


class TextIn(msgspec.Struct, forbid_unknown_fields=True):
    title: Annotated[str, msgspec.Meta(max_length=300)]
    body_html: str | None = None
    body_markdown: str | None = None
    status: Literal["draft", "published"] = "draft"
    note: Annotated[str, msgspec.Meta(max_length=300)] = ""


class ArticleIn(msgspec.Struct, forbid_unknown_fields=True):
    slug: Short | None = None
    category: Id | None = None
    visibility: Literal["public", "internal"] = "public"
    brands: list[Short] = []
    tags: list[Annotated[str, msgspec.Meta(max_length=40)]] = []
    position: Int32 = 0
    translations: dict[Language, TextIn] = {}


class BrandIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(max_length=200)]
    languages: list[Language] = msgspec.field(default_factory=lambda: ["en"])
    logo_url: Annotated[str, msgspec.Meta(max_length=500)] = ""
    primary_color: Short = "#1f6feb"
    background_color: Short = "#ffffff"
    text_color: Short = "#1f2328"
    header_template: str = ""
    footer_template: str = ""


async def _author(request: Request) -> str:
    return actor(await current_agent(request))


async def _write_texts(article_id: int, texts: dict[str, TextIn], author: str) -> None:
    for language, text in texts.items():
        body = store.body_from(text.body_html, text.body_markdown)
        await store.save_translation(article_id, language, title=text.title, body_html=body, status=text.status,
                                     author=author, note=text.note)


class KbApi(Controller):
    path = "/api/v1/plugins/kb"
    tags = ["kb"]

    @get("/categories", guards=[require("readonly")], responses=errors())
    async def list_categories(self) -> list[dict[str, Any]]:
        """Categories (parent null) and their sections, with names per language."""
        return await store.categories()

    @post("/categories", guards=[require("supervisor")], status_code=201, responses=with_body(409))
    async def create_category(self, data: CategoryIn) -> dict[str, Any]:
        return await store.save_category(category_id=None, slug=data.slug, names=data.names, parent=data.parent,
                                         position=data.position)

    @put("/categories/{category_id:int}", guards=[require("supervisor")], responses=with_body(404, 409))
    async def update_category(self, category_id: int, data: CategoryIn) -> dict[str, Any]:
        return await store.save_category(category_id=category_id, slug=data.slug, names=data.names,
                                         parent=data.parent, position=data.position)

    @delete("/categories/{category_id:int}", guards=[require("supervisor")], status_code=204,
            responses=errors(404, 409))
    async def delete_category(self, category_id: int) -> None:
        await store.delete_category(category_id)

    @get("/articles", guards=[require("readonly")], responses=errors())
    async def list_articles(self, language: str | None = None, status: str | None = None, tag: str | None = None,
                            category: int | None = None, brand: str | None = None) -> list[dict[str, Any]]:
        """Articles with their texts' titles and states (bodies: GET one article)."""
        if status is not None and status not in store.STATUSES:
            raise InvalidRequest("status must be draft or published")
        return await store.list_articles(language=store.language_or_400(language) if language else None,
                                         status=status, tag=tag, category=category, brand=brand)

    @post("/articles", guards=[require("supervisor")], status_code=201, responses=with_body(409))
    async def create_article(self, request: Request, data: ArticleIn) -> dict[str, Any]:
        """An article and, optionally, its texts; each text is saved as revision 1 of its language."""
        for text in data.translations.values():
            store.body_from(text.body_html, text.body_markdown)  # refuse bad bodies before creating anything
        article_id = await store.save_article(article_id=None, slug=data.slug, category=data.category,
                                              visibility=data.visibility, brands=data.brands, tags=data.tags,
                                              position=data.position)
        await _write_texts(article_id, data.translations, await _author(request))
        return await store.get_article(article_id)

    @get("/articles/{article_id:int}", guards=[require("readonly")], responses=errors(404))
    async def get_article(self, article_id: int) -> dict[str, Any]:
        return await store.get_article(article_id)

    @put("/articles/{article_id:int}", guards=[require("supervisor")], responses=with_body(404, 409))
    async def update_article(self, request: Request, article_id: int, data: ArticleIn) -> dict[str, Any]:
        """The article's fields; texts named in `translations` are saved (a new revision each when changed)."""
        await store.save_article(article_id=article_id, slug=data.slug, category=data.category,
                                 visibility=data.visibility, brands=data.brands, tags=data.tags,
                                 position=data.position)
        await _write_texts(article_id, data.translations, await _author(request))
        return await store.get_article(article_id)

    @delete("/articles/{article_id:int}", guards=[require("supervisor")], status_code=204, responses=errors(404))
    async def delete_article(self, article_id: int) -> None:
        await store.delete_article(article_id)

    @put("/articles/{article_id:int}/translations/{language:str}", guards=[require("supervisor")],
         responses=with_body(404))
    async def put_text(self, request: Request, article_id: int, language: str, data: TextIn) -> dict[str, Any]:
        """Save the article's text in one language: a new revision when anything changed."""
        body = store.body_from(data.body_html, data.body_markdown)
        return await store.save_translation(article_id, language, title=data.title, body_html=body,
                                            status=data.status, author=await _author(request), note=data.note)

    @delete("/articles/{article_id:int}/translations/{language:str}", guards=[require("supervisor")],
            status_code=204, responses=errors(404))
    async def delete_text(self, article_id: int, language: str) -> None:
        await store.delete_translation(article_id, language)

    @get("/articles/{article_id:int}/translations/{language:str}/revisions", guards=[require("readonly")],
         responses=errors(404))
    async def list_revisions(self, article_id: int, language: str) -> list[dict[str, Any]]:
        """Revisions of one language, newest first (without bodies)."""
        return await store.revisions(article_id, language)

    @get("/articles/{article_id:int}/translations/{language:str}/revisions/{number:int}",
         guards=[require("readonly")], responses=errors(404))
    async def get_revision(self, article_id: int, language: str, number: int) -> dict[str, Any]:
        return await store.revision(article_id, language, number)

    @get("/articles/{article_id:int}/translations/{language:str}/diff", guards=[require("readonly")],
         responses=errors(404))
    async def get_diff(self, article_id: int, language: str,
                       from_: Annotated[int, QueryParameter(name="from", ge=1, le=2**31 - 1)],
                       to: Annotated[int, QueryParameter(ge=1, le=2**31 - 1)]) -> dict[str, Any]:
        """A unified diff of two revisions (`?from=1&to=3`): title, status and body lines."""
        return await store.diff(article_id, language, from_, to)

    @post("/articles/{article_id:int}/translations/{language:str}/revisions/{number:int}/restore",
          guards=[require("supervisor")], status_code=200, responses=errors(404))
    async def restore_revision(self, request: Request, article_id: int, language: str, number: int) -> dict[str, Any]:
        """Make an old revision current again; it is saved as a new revision."""
        return await store.restore(article_id, language, number, await _author(request))

    @get("/brands", guards=[require("readonly")], responses=errors())
    async def list_brands(self) -> list[dict[str, Any]]:
        """Brands (stores), each with its own help center and theme."""
        return await theme.brands()

    @put("/brands/{key:str}", guards=[require("admin")], responses=with_body(404))
    async def put_brand(self, key: str, data: BrandIn) -> dict[str, Any]:
        """Create or change a brand's help center: languages (the first is the default), logo, colours,
        header and footer templates (jinja2, run in the sandbox; a template that fails is a 400)."""
        return await theme.save_brand(key, **msgspec.structs.asdict(data))

    @delete("/brands/{key:str}", guards=[require("admin")], status_code=204, responses=errors(404))
    async def delete_brand(self, key: str) -> None:
        await theme.delete_brand(key)

    @get("/export", guards=[require("readonly")], responses=errors(),
         media_type="application/zip")
    async def export(self) -> Response:
        """The whole knowledge base as a zip of a folder: categories.yaml and <slug>/<language>.html files
        with YAML front matter (docs/plugins/kb.md)."""
        return Response(await folder.export_zip(), media_type="application/zip",
                        headers={"content-disposition": 'attachment; filename="knowledge-base.zip"'})

    @post("/import", guards=[require("supervisor")], status_code=200, responses=with_body())
    async def import_(self, request: Request) -> dict[str, int]:
        """A zip of such a folder (.html or .md files). Articles match by slug; every file is checked
        before anything is written, and a bad one is a 400 naming it."""
        data = await request.body()
        files = folder.files_from_zip(data)
        return await folder.import_files(files, await _author(request))

    @post("/images", guards=[require("supervisor")], status_code=201, responses=with_body())
    async def upload_image(self, request: Request) -> dict[str, str]:
        """An image for article bodies, as the multipart field `image` (PNG, JPEG, GIF or WebP, by
        content; 5 MB at most): `{"url": "/help/images/<sha256>.<ext>"}`, public, for `<img src>`."""
        from plugins.kb.assets import read_upload, store_image

        return {"url": store_image(request.app.state.desk.settings.data_dir, await read_upload(request))}

    @get("/stats", guards=[require("readonly")], responses=errors())
    async def get_stats(self, since: str | None = None, until: str | None = None) -> dict[str, Any]:
        """Deflection figures per day: help-center searches (and those that found nothing), article
        views, helpful votes, searches from the contact widget (and those that found nothing)."""
        return await stats.report(since, until)
