"""Brands and their help-center theme. Header and footer are jinja2 templates an admin writes; they
run in jinja2's immutable sandbox with autoescaping and see only a few plain values, so a template
cannot reach Python objects, change state or inject script through the data it is given. The HTML
they produce is sanitized like an article body too: a template cannot add <script> either."""

from __future__ import annotations

import re
from typing import Any

from jinja2 import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from core.plugin_api import Conflict, InvalidRequest, NotFound
from plugins.kb import cache, store
from plugins.kb.content import sanitize
from plugins.kb.tables import KbBrand

_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
MAX_TEMPLATE = 20_000
_env = ImmutableSandboxedEnvironment(autoescape=True)


def brand_out(row: dict[str, Any]) -> dict[str, Any]:
    return {"key": row["key"], "name": row["name"], "languages": store.loads(row["languages"], ["en"]),
            "logo_url": row["logo_url"], "primary_color": row["primary_color"],
            "background_color": row["background_color"], "text_color": row["text_color"],
            "header_template": row["header_template"], "footer_template": row["footer_template"]}


async def brands() -> list[dict[str, Any]]:
    return [brand_out(r) for r in await KbBrand.select().order_by(KbBrand.key)]


async def brand(key: str) -> dict[str, Any] | None:
    row = await KbBrand.select().where(KbBrand.key == key).first()
    return brand_out(row) if row else None


def render_fragment(source: str, values: dict[str, Any]) -> str:
    """A header or footer template rendered in the sandbox; a template that fails renders empty."""
    if not source:
        return ""
    try:
        return sanitize(_env.from_string(source).render(**values))
    except (TemplateError, ArithmeticError, TypeError, ValueError, AttributeError, RecursionError):
        return ""


def check_template(source: str, field: str) -> str:
    if len(source) > MAX_TEMPLATE:
        raise InvalidRequest(f"{field} is longer than {MAX_TEMPLATE} characters")
    try:
        template = _env.from_string(source)
        template.render(brand={"name": "x", "logo_url": "", "key": "x"}, language="en", home_url="/", languages=[])
    except TemplateError as exc:
        raise InvalidRequest(f"{field}: {str(exc)[:300]}") from None
    except Exception as exc:  # a sandboxed template raising anything is the template's fault
        raise InvalidRequest(f"{field}: {type(exc).__name__}: {str(exc)[:300]}") from None
    return source


async def save_brand(key: str, *, name: str, languages: list[str], logo_url: str = "", primary_color: str = "#1f6feb",
                     background_color: str = "#ffffff", text_color: str = "#1f2328", header_template: str = "",
                     footer_template: str = "") -> dict[str, Any]:
    store._slug_or_400(key)
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise InvalidRequest("the brand's name is 1 to 200 characters")
    codes: list[str] = []
    for code in languages:
        lang = store.language_or_400(code)
        if lang not in codes:
            codes.append(lang)
    if not codes:
        raise InvalidRequest("a help center needs at least one language")
    for field, value in (("primary_color", primary_color), ("background_color", background_color),
                         ("text_color", text_color)):
        if not _COLOR.fullmatch(value or ""):
            raise InvalidRequest(f"{field} must be a colour like #1f6feb")
    if logo_url and not re.fullmatch(r"https://[^\s\"'<>]{1,500}|/(?!/)[^\s\"'<>]{0,500}", logo_url):
        raise InvalidRequest("logo_url must be an https:// URL or a path on this desk")
    values = {KbBrand.name: name, KbBrand.languages: store.dumps(codes), KbBrand.logo_url: logo_url,
              KbBrand.primary_color: primary_color, KbBrand.background_color: background_color,
              KbBrand.text_color: text_color, KbBrand.header_template: check_template(header_template, "header_template"),
              KbBrand.footer_template: check_template(footer_template, "footer_template"),
              KbBrand.updated_at: store.now()}
    if await KbBrand.exists().where(KbBrand.key == key):
        await KbBrand.update(values).where(KbBrand.key == key)
    else:
        try:
            await KbBrand.insert(KbBrand(key=key, **{c._meta.name: v for c, v in values.items()}))
        except Exception as exc:  # a racing insert of the same key
            raise Conflict(f"brand {key!r} was created meanwhile; try again") from exc
    cache.clear()
    found = await brand(key)
    if found is None:
        raise NotFound(f"brand {key} does not exist")
    return found


async def delete_brand(key: str) -> None:
    if not await KbBrand.exists().where(KbBrand.key == key):
        raise NotFound(f"brand {key!r} does not exist")
    await KbBrand.delete().where(KbBrand.key == key)
    cache.clear()
