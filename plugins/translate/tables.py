"""The plugin's tables: the translation cache and the characters sent per provider per day.
Created by plugins/translate/migrations/."""

from __future__ import annotations

from piccolo.columns import Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.plugin_api import register_tables


class TranslationCache(Table, tablename="translate_cache"):
    """One translation, keyed by sha256(provider, source, target, text) so repeats cost nothing."""

    key = Varchar(length=64, unique=True)
    provider = Varchar(length=32)
    source = Varchar(length=16, null=True, default=None)
    target = Varchar(length=16)
    text = Text()
    created_at = Timestamptz(default=TimestamptzNow())


class TranslationUsage(Table, tablename="translate_usage"):
    """Characters sent to one provider on one UTC day (unique on provider + day)."""

    provider = Varchar(length=32)
    day = Varchar(length=10)  # YYYY-MM-DD, UTC
    chars = Integer(default=0)


TRANSLATE_TABLES = (TranslationCache, TranslationUsage)


register_tables(TRANSLATE_TABLES)  # bound to the desk's database on every connect
