"""Each provider's documented API, its errors and quotas; the cache and the daily cap."""

from __future__ import annotations

from typing import Any, Callable

import pytest

from plugins.translate import state
from plugins.translate.providers import TranslationError
from plugins.translate.service import translate_text, usage
from tests.plugins.translate.conftest import desk_with

PROVIDERS = ["deepl", "google", "libretranslate", "openai"]


@pytest.mark.parametrize("name", PROVIDERS)
async def test_each_provider_translates_over_its_wire_format(make_desk: Callable[..., Any], provider: Any,
                                                             name: str) -> None:
    desk = await desk_with(make_desk, provider.url, provider=name, model="local-llama")
    settings = state.settings(desk)
    text = "Wo ist meine Bestellung?"
    assert await translate_text(settings, text, "de", "en") == "Where is my order?"
    seen = provider.requests[-1]
    if name == "deepl":
        assert seen.path == "/v2/translate"
        assert seen.headers["authorization"] == "DeepL-Auth-Key test-key"
        assert seen.body == {"text": [text], "target_lang": "EN-US", "source_lang": "DE"}
    elif name == "google":
        assert seen.path == "/language/translate/v2" and seen.query["key"] == ["test-key"]
        assert seen.body == {"q": [text], "target": "en", "format": "text", "source": "de"}
    elif name == "libretranslate":
        assert seen.body == {"q": text, "source": "de", "target": "en", "format": "text", "api_key": "test-key"}
    else:
        assert seen.headers["authorization"] == "Bearer test-key"
        assert seen.body["model"] == "local-llama" and seen.body["messages"][-1]["content"] == text
    assert await usage(name) == len(text)


async def test_cache_answers_repeats_without_a_call(tdesk: Any, provider: Any) -> None:
    settings = state.settings(tdesk)
    first = await translate_text(settings, "Danke für die schnelle Hilfe", "de", "en")
    second = await translate_text(settings, "Danke für die schnelle Hilfe", "de", "en")
    assert first == second == "[en] Danke für die schnelle Hilfe"
    assert len(provider.requests) == 1
    await translate_text(settings, "Danke für die schnelle Hilfe", "de", "fr")  # another target: a call
    assert len(provider.requests) == 2


async def test_masked_terms_survive_the_round_trip(make_desk: Callable[..., Any], provider: Any) -> None:
    desk = await desk_with(make_desk, provider.url, do_not_translate=["Relaydesk"], glossary={"Paket": "parcel"})
    text = "Mein Paket #1234 von Relaydesk: https://x.example/t/9 {{ order.name }}"
    result = await translate_text(state.settings(desk), text, "de", "en")
    sent = provider.requests[-1].body["text"][0]
    for kept in ("#1234", "Relaydesk", "https://x.example", "{{ order.name }}", "Paket"):
        assert kept not in sent
    assert result == "[en] Mein parcel #1234 von Relaydesk: https://x.example/t/9 {{ order.name }}"


async def test_deepl_quota_exceeded_456(make_desk: Callable[..., Any], provider: Any) -> None:
    desk = await desk_with(make_desk, provider.url)
    provider.quota_chars = 10
    with pytest.raises(TranslationError) as caught:
        await translate_text(state.settings(desk), "Das Paket kam beschädigt an", "de", "en")
    assert caught.value.platform_code == "456" and caught.value.quota and not caught.value.retryable
    assert "quota exceeded" in caught.value.message
    assert await usage("deepl") == 0  # nothing was translated, nothing counted


async def test_rate_limits_are_retryable(make_desk: Callable[..., Any], provider: Any) -> None:
    for name in PROVIDERS:
        desk = await desk_with(make_desk, provider.url, provider=name)
        provider.fail_next = [429]
        with pytest.raises(TranslationError) as caught:
            await translate_text(state.settings(desk), f"Hallo {name}", "de", "en")
        assert caught.value.retryable, name
        # the next call works: nothing was cached from the failure
        assert await translate_text(state.settings(desk), f"Hallo {name}", "de", "en") == f"[en] Hallo {name}"


async def test_provider_quota_errors(make_desk: Callable[..., Any], provider: Any) -> None:
    provider.quota_chars = 0
    expected = {"google": "dailyLimitExceeded", "openai": "insufficient_quota", "libretranslate": "403"}
    for name, code in expected.items():
        desk = await desk_with(make_desk, provider.url, provider=name)
        with pytest.raises(TranslationError) as caught:
            await translate_text(state.settings(desk), "Wo ist meine Bestellung?", "de", "en")
        assert caught.value.platform_code == code, name
        assert name in caught.value.message


async def test_bad_key_is_a_clear_permanent_error(make_desk: Callable[..., Any], provider: Any,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_TRANSLATE_KEY", "wrong")
    desk = await desk_with(make_desk, provider.url)
    with pytest.raises(TranslationError) as caught:
        await translate_text(state.settings(desk), "Hallo", "de", "en")
    assert caught.value.platform_code == "403" and not caught.value.retryable
    assert "authentication key was refused" in caught.value.message


async def test_daily_cap_refuses_without_calling(make_desk: Callable[..., Any], provider: Any) -> None:
    desk = await desk_with(make_desk, provider.url, daily_char_cap=30)
    settings = state.settings(desk)
    await translate_text(settings, "Wo ist meine Bestellung?", "de", "en")  # 24 characters
    calls = len(provider.requests)
    with pytest.raises(TranslationError) as caught:
        await translate_text(settings, "Bitte stornieren Sie meine Bestellung", "de", "en")
    assert caught.value.platform_code == "daily_char_cap"
    assert "24 of 30 used today" in caught.value.message
    assert len(provider.requests) == calls  # no call was made
    assert await usage("deepl") == 24


async def test_unreachable_provider_is_retryable(make_desk: Callable[..., Any]) -> None:
    desk = await desk_with(make_desk, "http://127.0.0.1:9", timeout_seconds=2)
    with pytest.raises(TranslationError) as caught:
        await translate_text(state.settings(desk), "Hallo Welt", "de", "en")
    assert caught.value.retryable and "could not be reached" in caught.value.message


async def test_hook_translate(tdesk: Any) -> None:
    pending = tdesk.registry.hook.translate(text="Your parcel ships today.", source="en", target="de")
    assert await pending == "Ihr Paket wird heute versandt."
