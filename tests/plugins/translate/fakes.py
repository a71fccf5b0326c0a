"""A loopback translation provider that speaks the documented wire formats of DeepL (v2),
Google Cloud Translation (v2), LibreTranslate and OpenAI-compatible chat completions, with their
authentication, rate-limit and quota errors.

Its "translation" is a fixed phrasebook plus a visible marker ("[de] ...") for anything else, so
tests can tell translated text from the original; placeholders pass through untouched, as real
providers leave such tokens alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.loopback import HttpFake, Reply

PHRASEBOOK = {
    ("de", "en"): {"Wo ist meine Bestellung?": "Where is my order?"},
    ("en", "de"): {"Your parcel ships today.": "Ihr Paket wird heute versandt."},
}


@dataclass
class Seen:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


@dataclass
class FakeProvider(HttpFake):
    key: str = "test-key"
    quota_chars: int = 1_000_000  # the provider's own allowance
    fail_next: list[int] = field(default_factory=list)  # statuses to answer before working again
    requests: list[Seen] = field(default_factory=list)
    used: int = 0

    def __post_init__(self) -> None:
        super().__init__()

    def respond(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Reply | None:
        split = urlsplit(path)
        try:
            parsed = json.loads(body) if body else {}
        except ValueError:
            parsed = None
        seen = Seen(split.path, parse_qs(split.query), headers, parsed)
        self.requests.append(seen)
        status, payload = self.answer(seen)
        return status, json.dumps(payload).encode(), {"content-type": "application/json"}

    # --- the "engine" -----------------------------------------------------------------------

    def _translate(self, text: str, source: str | None, target: str) -> str:
        known = PHRASEBOOK.get(((source or "").lower()[:2], target.lower()[:2]), {})
        return known.get(text, f"[{target.lower()[:2]}] {text}")

    def _over_quota(self, texts: list[str]) -> bool:
        size = sum(len(t) for t in texts)
        if self.used + size > self.quota_chars:
            return True
        self.used += size
        return False

    def answer(self, r: Seen) -> tuple[int, Any]:
        if r.path == "/v2/translate":
            return self._deepl(r)
        if r.path == "/language/translate/v2":
            return self._google(r)
        if r.path == "/translate":
            return self._libre(r)
        if r.path == "/v1/chat/completions":
            return self._openai(r)
        return 404, {"message": "not found"}

    def _deepl(self, r: Seen) -> tuple[int, Any]:
        if r.headers.get("authorization") != f"DeepL-Auth-Key {self.key}":
            return 403, {"message": "Wrong endpoint. Use https://api.deepl.com"}
        if self.fail_next:
            status = self.fail_next.pop(0)
            return status, {"message": "Too many requests" if status == 429 else "Internal error"}
        body = r.body or {}
        if not isinstance(body.get("text"), list) or not body.get("target_lang"):
            return 400, {"message": "Bad request. Reason: Parameter 'text' not specified."}
        if self._over_quota(body["text"]):
            return 456, {"message": "Quota Exceeded"}
        source = body.get("source_lang")
        return 200, {"translations": [
            {"detected_source_language": (source or "EN"), "text": self._translate(t, source, body["target_lang"])}
            for t in body["text"]]}

    def _google(self, r: Seen) -> tuple[int, Any]:
        if r.query.get("key") != [self.key]:
            return 400, {"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.",
                                   "errors": [{"message": "API key not valid.", "domain": "global",
                                               "reason": "badRequest"}], "status": "INVALID_ARGUMENT"}}
        if self.fail_next:
            status = self.fail_next.pop(0)
            return status, {"error": {"code": status, "message": "Rate Limit Exceeded",
                                      "errors": [{"reason": "rateLimitExceeded", "domain": "usageLimits"}]}}
        body = r.body or {}
        texts = body.get("q")
        texts = [texts] if isinstance(texts, str) else texts
        if not texts or not body.get("target"):
            return 400, {"error": {"code": 400, "message": "Required Text", "errors": [{"reason": "required"}]}}
        if self._over_quota(texts):
            return 403, {"error": {"code": 403, "message": "Daily Limit Exceeded",
                                   "errors": [{"reason": "dailyLimitExceeded", "domain": "usageLimits"}]}}
        return 200, {"data": {"translations": [
            {"translatedText": self._translate(t, body.get("source"), body["target"]),
             **({} if body.get("source") else {"detectedSourceLanguage": "en"})} for t in texts]}}

    def _libre(self, r: Seen) -> tuple[int, Any]:
        body = r.body or {}
        if body.get("api_key") != self.key:
            return 403, {"error": "Invalid API key"}
        if self.fail_next:
            status = self.fail_next.pop(0)
            return status, {"error": "Slowdown: 20 per 1 minute" if status == 429 else "Translation error"}
        if not body.get("q") or not body.get("target") or not body.get("source"):
            return 400, {"error": "Invalid request: missing q parameter"}
        if self._over_quota([body["q"]]):
            return 403, {"error": "Character limit exceeded"}
        source = None if body["source"] == "auto" else body["source"]
        out: dict[str, Any] = {"translatedText": self._translate(body["q"], source, body["target"])}
        if source is None:
            out["detectedLanguage"] = {"confidence": 90.0, "language": "en"}
        return 200, out

    def _openai(self, r: Seen) -> tuple[int, Any]:
        if r.headers.get("authorization") != f"Bearer {self.key}":
            return 401, {"error": {"message": "Incorrect API key provided.", "type": "invalid_request_error",
                                   "param": None, "code": "invalid_api_key"}}
        if self.fail_next:
            status = self.fail_next.pop(0)
            return status, {"error": {"message": "Rate limit reached for requests", "type": "requests",
                                      "param": None, "code": "rate_limit_exceeded"}}
        body = r.body or {}
        messages = body.get("messages") or []
        if not body.get("model") or not messages:
            return 400, {"error": {"message": "you must provide a model parameter", "type": "invalid_request_error",
                                   "param": None, "code": None}}
        user = messages[-1]["content"]
        if self._over_quota([user]):
            return 429, {"error": {"message": "You exceeded your current quota, please check your plan and "
                                              "billing details.", "type": "insufficient_quota", "param": None,
                                   "code": "insufficient_quota"}}
        system = messages[0]["content"]
        target = system.split("ISO 639-1 code '", 1)[1][:2]
        source = system.split("from '", 1)[1][:2] if "from '" in system else None
        return 200, {"id": "chatcmpl-1", "object": "chat.completion", "model": body["model"],
                     "choices": [{"index": 0, "finish_reason": "stop",
                                  "message": {"role": "assistant", "content": self._translate(user, source, target)}}],
                     "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20}}
