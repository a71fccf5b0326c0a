"""Translate with the configured provider: mask, look in the cache, respect the daily cap, call,
unmask, store. Everything else in the plugin goes through `translate_text`."""

from __future__ import annotations

import hashlib

from core.plugin_api import clock, db
from plugins.translate import providers
from plugins.translate.mask import mask, unmask
from plugins.translate.providers import TranslationError
from plugins.translate.settings import TranslateSettings
from plugins.translate.tables import TranslationCache, TranslationUsage


def cache_key(provider: str, source: str | None, target: str, text: str) -> str:
    raw = "\x1f".join([provider, source or "auto", target, text])
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


async def translate_text(settings: TranslateSettings, text: str, source: str | None, target: str) -> str:
    """The translation of `text`; raises TranslationError (cap reached, provider failure)."""
    if source and source == target:
        return text
    if not text.strip():
        return text
    masked, values = mask(text, settings.do_not_translate, settings.glossary)
    # The key covers the masked text and the values, so a changed glossary misses the cache.
    key = cache_key(settings.provider, source, target, masked + "\x1e" + "\x1f".join(values))
    cached = await TranslationCache.select(TranslationCache.text).where(TranslationCache.key == key).first()
    if cached is not None:
        return cached["text"]
    chars = len(masked)
    await _reserve(settings, chars)
    try:
        translated = await providers.translate(settings, masked, source, target)
    except TranslationError:
        await _release(settings.provider, chars)  # nothing was translated: the characters were not used
        raise
    result = unmask(translated, values)
    await db.fetch("INSERT INTO translate_cache (key, provider, source, target, text, created_at) "
                   "VALUES ({}, {}, {}, {}, {}, {}) ON CONFLICT (key) DO NOTHING",
                   key, settings.provider, source, target, result, clock.now())
    return result


def _today() -> str:
    return clock.now().date().isoformat()


async def _reserve(settings: TranslateSettings, chars: int) -> None:
    """Count the characters before the call; refuse when the cap would be passed (no call made)."""
    day = _today()
    await db.fetch("INSERT INTO translate_usage (provider, day, chars) VALUES ({}, {}, 0) "
                   "ON CONFLICT (provider, day) DO NOTHING", settings.provider, day)
    cap = settings.daily_char_cap
    if cap is None:
        await db.fetch("UPDATE translate_usage SET chars = chars + {} WHERE provider = {} AND day = {}",
                       chars, settings.provider, day)
        return
    # One conditional UPDATE: two workers cannot both squeeze under the cap.
    rows = await db.fetch("UPDATE translate_usage SET chars = chars + {} WHERE provider = {} AND day = {} "
                          "AND chars + {} <= {} RETURNING chars", chars, settings.provider, day, chars, cap)
    if not rows:
        used = await usage(settings.provider, day)
        raise TranslationError(
            f"the daily character cap for {settings.provider} is reached ({used} of {cap} used today, "
            f"this text needs {chars}); raise daily_char_cap or wait until tomorrow (UTC)",
            provider=settings.provider, platform_code="daily_char_cap", quota=True)


async def _release(provider: str, chars: int) -> None:
    await db.fetch("UPDATE translate_usage SET chars = chars - {} WHERE provider = {} AND day = {}",
                   chars, provider, _today())


async def usage(provider: str, day: str | None = None) -> int:
    row = await TranslationUsage.select(TranslationUsage.chars).where(
        (TranslationUsage.provider == provider) & (TranslationUsage.day == (day or _today()))).first()
    return int(row["chars"]) if row else 0
