"""The knowledge base's tables: brands (one help center each), categories and their sections,
articles with one translation per language, every saved version of a translation (revisions), the
search terms of published translations, and daily counters for deflection figures."""

from __future__ import annotations

from piccolo.columns import Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.plugin_api import register_tables


class KbBrand(Table, tablename="kb_brands"):
    """A store or brand with its own help center at /help/<key>/<language>/."""

    key = Varchar(length=64, unique=True)
    name = Varchar(length=200)
    languages = Text(default='["en"]')  # JSON list; the first is the default language
    logo_url = Text(default="")
    primary_color = Varchar(length=16, default="#1f6feb")
    background_color = Varchar(length=16, default="#ffffff")
    text_color = Varchar(length=16, default="#1f2328")
    header_template = Text(default="")  # jinja2, rendered in the sandbox
    footer_template = Text(default="")
    updated_at = Timestamptz(default=TimestamptzNow())


class KbCategory(Table, tablename="kb_categories"):
    """A category (parent None) or a section inside one. Names per language as JSON."""

    parent = Integer(null=True, default=None, index=True)
    slug = Varchar(length=100)
    names = Text(default="{}")
    position = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())


class KbArticle(Table, tablename="kb_articles"):
    slug = Varchar(length=100, unique=True)
    category = Integer(null=True, default=None, index=True)  # a category or a section
    visibility = Varchar(length=16, default="public")  # public | internal (agents only)
    brands = Text(default="[]")  # JSON list of brand keys; empty: every brand
    tags = Text(default="[]")  # JSON list
    position = Integer(default=0)
    helpful_yes = Integer(default=0)
    helpful_no = Integer(default=0)
    views = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class KbTranslation(Table, tablename="kb_translations"):
    """The current text of an article in one language (unique per article and language)."""

    article = Integer(index=True)
    language = Varchar(length=16)
    title = Varchar(length=300)
    body_html = Text(default="")
    status = Varchar(length=16, default="draft")  # draft | published
    revision = Integer(default=0)  # the number of the revision this text is
    updated_at = Timestamptz(default=TimestamptzNow())
    published_at = Timestamptz(null=True, default=None)


class KbRevision(Table, tablename="kb_revisions"):
    """Every saved version of a translation, numbered from 1 per (article, language)."""

    article = Integer()
    language = Varchar(length=16)
    number = Integer()
    title = Varchar(length=300)
    body_html = Text(default="")
    status = Varchar(length=16)
    author = Varchar(length=100, default="")
    note = Varchar(length=300, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class KbTerm(Table, tablename="kb_terms"):
    """core.search's terms of one translation; weight 3 in the title, 1 in the body."""

    term = Varchar(length=64, index=True)
    translation = Integer(index=True)
    weight = Integer(default=1)


class KbStat(Table, tablename="kb_stats"):
    """Daily counters (searches, empty searches, views, votes, widget sessions) per brand and
    language; the deflection report reads these rows, never the raw traffic."""

    day = Varchar(length=10)
    kind = Varchar(length=32)
    brand = Varchar(length=64, default="")
    language = Varchar(length=16, default="")
    count = Integer(default=0)


class KbUse(Table, tablename="kb_uses"):
    """An agent took an article's link or passage into a ticket's reply (from the suggestions)."""

    ticket = Integer(index=True)
    article = Integer(index=True)
    language = Varchar(length=16)
    agent = Integer(null=True, default=None)
    mode = Varchar(length=16)  # link | passage
    created_at = Timestamptz(default=TimestamptzNow())


KB_TABLES = (KbBrand, KbCategory, KbArticle, KbTranslation, KbRevision, KbTerm, KbStat, KbUse)

register_tables(KB_TABLES)  # bound to the desk's database on every connect
