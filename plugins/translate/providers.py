"""Clients for the translation providers, each speaking its documented HTTP API.

- DeepL: POST {base}/v2/translate, header `Authorization: DeepL-Auth-Key <key>`, JSON
  {"text": [...], "target_lang": "DE", "source_lang": "EN"}; 403 bad key, 429 too many requests,
  456 quota exceeded (the monthly character allowance or the Cost Control limit).
- Google Cloud Translation v2: POST {base}/language/translate/v2?key=<key>, JSON
  {"q": [...], "target": "de", "source": "en", "format": "text"} -> {"data": {"translations": [...]}};
  errors as {"error": {"code", "message", "errors": [{"reason"}]}} (403 dailyLimitExceeded, 429).
- LibreTranslate: POST {base}/translate, JSON {"q", "source" ("auto" to detect), "target",
  "format": "text", "api_key"} -> {"translatedText", "detectedLanguage"?}; errors {"error": "..."}.
- OpenAI-compatible: POST {base}/v1/chat/completions with a system prompt; the answer is
  choices[0].message.content; errors {"error": {"message", "type", "code"}} (401, 429).
"""

from __future__ import annotations

from typing import Any

import httpx

from core.plugin_api import RelaydeskError
from plugins.translate.settings import TranslateSettings


class TranslationError(RelaydeskError):
    """A translation could not be made. `retryable`: the same call may work later (429, 5xx,
    network); `quota`: the provider's or our own character allowance is used up."""

    code = "translation_failed"
    status_code = 502

    def __init__(self, message: str, *, provider: str, platform_code: str | None = None,
                 retryable: bool = False, quota: bool = False) -> None:
        super().__init__(message)
        self.provider = provider
        self.platform_code = platform_code
        self.retryable = retryable
        self.quota = quota


async def translate(settings: TranslateSettings, text: str, source: str | None, target: str) -> str:
    """Translate `text` (already masked) with the configured provider."""
    call = {"deepl": _deepl, "google": _google, "libretranslate": _libre, "openai": _openai}[settings.provider]
    try:
        async with httpx.AsyncClient(timeout=settings.timeout_seconds) as client:
            return await call(client, settings, text, source, target)
    except httpx.HTTPError as exc:
        raise TranslationError(f"{settings.provider} could not be reached: {type(exc).__name__}: {exc}",
                               provider=settings.provider, retryable=True) from None


def _fail(provider: str, response: httpx.Response, message: str, code: str | None = None) -> TranslationError:
    status = response.status_code
    retryable = status == 429 or status >= 500
    return TranslationError(f"{provider} answered {status}: {message}", provider=provider,
                            platform_code=code or str(status), retryable=retryable, quota=status == 456)


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _deepl_lang(code: str, *, target: bool) -> str:
    code = code.upper()
    # DeepL wants a regional variant for some targets ("EN" alone is deprecated as a target).
    if target and code in {"EN", "PT"}:
        return {"EN": "EN-US", "PT": "PT-PT"}[code]
    return code


async def _deepl(client: httpx.AsyncClient, s: TranslateSettings, text: str, source: str | None, target: str) -> str:
    body: dict[str, Any] = {"text": [text], "target_lang": _deepl_lang(target, target=True)}
    if source:
        body["source_lang"] = _deepl_lang(source, target=False)
    response = await client.post(f"{s.url}/v2/translate", json=body,
                                 headers={"Authorization": f"DeepL-Auth-Key {s.api_key}"})
    data = _json(response)
    if response.status_code != 200:
        message = (data or {}).get("message") if isinstance(data, dict) else None
        if response.status_code == 456:
            message = "quota exceeded: the DeepL character allowance is used up"
        elif response.status_code == 403:
            message = "the DeepL authentication key was refused"
        raise _fail("deepl", response, message or response.reason_phrase)
    try:
        return str(data["translations"][0]["text"])
    except (KeyError, IndexError, TypeError):
        raise TranslationError("deepl answered without translations", provider="deepl") from None


async def _google(client: httpx.AsyncClient, s: TranslateSettings, text: str, source: str | None, target: str) -> str:
    body: dict[str, Any] = {"q": [text], "target": target, "format": "text"}
    if source:
        body["source"] = source
    response = await client.post(f"{s.url}/language/translate/v2", params={"key": s.api_key}, json=body)
    data = _json(response)
    if response.status_code != 200:
        error = (data or {}).get("error") if isinstance(data, dict) else None
        reason = None
        if isinstance(error, dict) and error.get("errors"):
            reason = error["errors"][0].get("reason")
        exc = _fail("google", response, (error or {}).get("message") if isinstance(error, dict) else
                    response.reason_phrase, reason)
        if reason in ("dailyLimitExceeded", "userRateLimitExceeded", "rateLimitExceeded"):
            exc.retryable = True
            exc.quota = reason == "dailyLimitExceeded"
        raise exc
    try:
        # format "text" returns plain text; no HTML entities to undo.
        return str(data["data"]["translations"][0]["translatedText"])
    except (KeyError, IndexError, TypeError):
        raise TranslationError("google answered without translations", provider="google") from None


async def _libre(client: httpx.AsyncClient, s: TranslateSettings, text: str, source: str | None, target: str) -> str:
    body = {"q": text, "source": source or "auto", "target": target, "format": "text"}
    if s.api_key:
        body["api_key"] = s.api_key
    response = await client.post(f"{s.url}/translate", json=body)
    data = _json(response)
    if response.status_code != 200:
        message = data.get("error") if isinstance(data, dict) else None
        raise _fail("libretranslate", response, message or response.reason_phrase)
    if not isinstance(data, dict) or "translatedText" not in data:
        raise TranslationError("libretranslate answered without translatedText", provider="libretranslate")
    return str(data["translatedText"])


SYSTEM_PROMPT = (
    "You translate customer-service messages. Translate the user's message {source}into the language "
    "with ISO 639-1 code '{target}'. Keep every placeholder like ⟦0⟧ exactly as it is. Answer with the "
    "translation only, no comments."
)


async def _openai(client: httpx.AsyncClient, s: TranslateSettings, text: str, source: str | None, target: str) -> str:
    prompt = SYSTEM_PROMPT.format(source=f"from '{source}' " if source else "", target=target)
    headers = {"Authorization": f"Bearer {s.api_key}"} if s.api_key else {}
    response = await client.post(f"{s.url}/v1/chat/completions", headers=headers, json={
        "model": s.model, "temperature": 0,
        "messages": [{"role": "system", "content": prompt}, {"role": "user", "content": text}],
    })
    data = _json(response)
    if response.status_code != 200:
        error = data.get("error") if isinstance(data, dict) else None
        error = error if isinstance(error, dict) else {}
        code = error.get("code") or error.get("type")
        exc = _fail("openai", response, error.get("message") or response.reason_phrase, code)
        if code == "insufficient_quota":  # a 429 that waiting does not fix
            exc.retryable, exc.quota = False, True
        raise exc
    try:
        content = data["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise TranslationError("openai answered without choices", provider="openai") from None
    return str(content).strip()
