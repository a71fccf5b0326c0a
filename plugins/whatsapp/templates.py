"""The approved message templates an agent may send once the 24-hour window has closed.

Listed from ``GET /{version}/{waba-id}/message_templates`` (Meta's "Template management" page:
``{"data": [{"name", "language", "status", "category", "parameter_format", "components": [{"type":
"HEADER"|"BODY"|"FOOTER"|"BUTTONS", "format", "text", "example", "buttons"}]}], "paging": {"cursors":
{"before", "after"}, "next"}}``), APPROVED ones only, and described for the reply box as
``{"name", "language", "category", "params", "text", "header", "footer", "examples"}``.

Only templates the desk can fill are offered: variables in the BODY (positional ``{{1}}`` or named
``{{first_name}}``), a static text header, a footer, buttons without variables. A media header or a
variable in a header or a button URL would need parameters the reply box does not ask for.

The list is cached per account for ``template_cache_seconds`` in this process (a failure for a
minute, so a Graph outage costs one call a minute, not one per page view); "refresh" fetches again.
When a refresh fails, the templates fetched before stay offered beside the error.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from core.plugin_api import ChannelError
from plugins.whatsapp import client, graph
from web.plugin_api import i18n

log = logging.getLogger("relaydesk.whatsapp")

_ = i18n.translator(Path(__file__).parent / "translations")

PARAM = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
FAILURE_CACHE_SECONDS = 60.0
# Buttons whose parameters the send would have to carry (a one-time code, a flow, a catalog).
BUTTONS_WITH_PARAMETERS = {"OTP", "COPY_CODE", "FLOW", "CATALOG", "MPM", "SPM"}


def N_(message: str) -> str:
    return message


# Shown to the agent when listing fails, by Meta's code (graph.py's sets say which are limits).
LIST_REASONS = {
    190: N_("WhatsApp refused the access token (expired or revoked): renew it, then refresh."),
    100: N_("WhatsApp does not know this business account id, or the token may not read its templates."),
    200: N_("The access token lacks the whatsapp_business_management permission needed to list templates."),
    10: N_("The access token lacks the whatsapp_business_management permission needed to list templates."),
}
RATE_LIMITED = N_("WhatsApp is rate-limiting template requests: refresh again in a minute.")
UNREACHABLE = N_("WhatsApp could not be reached to list the templates: {details}")
FAILED = N_("WhatsApp could not list the templates (error {code}): {details}")


# A template Meta refused to send, worded for the agent who sent it (Meta's "WhatsApp error codes").
SEND_REASONS = {
    132000: N_("WhatsApp refused template {name}: the number of variables does not match the approved template."),
    132001: N_("WhatsApp refused template {name}: it does not exist in language {language}, or is not approved."),
    132005: N_("WhatsApp refused template {name}: the filled-in text is too long."),
    132007: N_("WhatsApp refused template {name}: its text breaks WhatsApp's formatting or content policy."),
    132012: N_("WhatsApp refused template {name}: a variable has the wrong format."),
    132015: N_("WhatsApp refused template {name}: it is paused for low quality. Pick another one."),
    132016: N_("WhatsApp refused template {name}: it is disabled. Pick another one."),
    131026: N_("WhatsApp could not deliver template {name} to this number."),
}
SEND_FAILED = N_("WhatsApp refused template {name} (error {code}): {details}")


@dataclass
class Listing:
    templates: list[dict[str, Any]] = field(default_factory=list)
    error: ChannelError | None = None
    expires: float = 0.0


_cache: dict[int, Listing] = {}
_locks: dict[int, asyncio.Lock] = {}


def forget() -> None:
    _cache.clear()
    _locks.clear()


def describe(raw: Any) -> dict[str, Any] | None:
    """One template as Meta lists it -> what the reply box offers, or None when it cannot be filled here."""
    if not isinstance(raw, dict) or raw.get("status") != "APPROVED":
        return None
    name, language = raw.get("name"), raw.get("language")
    if not isinstance(name, str) or not isinstance(language, str) or not name or not language:
        return None
    out: dict[str, Any] = {"name": name, "language": language, "category": str(raw.get("category") or ""),
                           "params": [], "text": "", "header": "", "footer": "", "examples": {}}
    for component in raw.get("components") or []:
        if not isinstance(component, dict):
            return None
        kind = str(component.get("type") or "").upper()
        text = component.get("text") if isinstance(component.get("text"), str) else ""
        if kind == "HEADER":
            if str(component.get("format") or "TEXT").upper() != "TEXT" or PARAM.search(text):
                return None
            out["header"] = text
        elif kind == "BODY":
            out["text"] = text
            out["params"] = list(dict.fromkeys(PARAM.findall(text)))
            out["examples"] = _examples(component.get("example"), out["params"])
        elif kind == "FOOTER":
            out["footer"] = text
        elif kind == "BUTTONS":
            for button in component.get("buttons") or []:
                if not isinstance(button, dict):
                    return None
                if str(button.get("type") or "").upper() in BUTTONS_WITH_PARAMETERS or PARAM.search(str(button.get("url") or "")):
                    return None
    return out if out["text"] else None


def _examples(example: Any, params: list[str]) -> dict[str, str]:
    """Meta's sample values: ``body_text: [["Pablo", "860198"]]`` (positional) or
    ``body_text_named_params: [{"param_name", "example"}]``; shown as the inputs' placeholders."""
    if not isinstance(example, dict):
        return {}
    out: dict[str, str] = {}
    rows = example.get("body_text")
    if isinstance(rows, list) and rows and isinstance(rows[0], list):
        for param in params:
            if param.isdigit() and 0 < int(param) <= len(rows[0]):
                out[param] = str(rows[0][int(param) - 1])[:200]
    for item in example.get("body_text_named_params") or []:
        if isinstance(item, dict) and item.get("param_name") in params:
            out[str(item["param_name"])] = str(item.get("example") or "")[:200]
    return out


async def listing(account: Any, *, refresh: bool = False) -> Listing:
    """The account's approved templates, from the cache unless it expired or `refresh` asks."""
    settings = account.settings
    if not settings.business_account_id:
        return Listing()
    lock = _locks.setdefault(account.id, asyncio.Lock())
    async with lock:  # many agents opening closed tickets at once cost one Graph listing
        held = _cache.get(account.id)
        if held is not None and held.expires > time.monotonic() and not refresh:
            return held
        try:
            async with httpx.AsyncClient(timeout=settings.timeout_seconds) as http:
                raw = await client.approved_templates(http, settings)
        except ChannelError as exc:
            log.warning("could not list the templates of %s: %s", account.name, exc.message)
            kept = held.templates if held else []
            fresh = Listing(kept, exc, time.monotonic() + min(FAILURE_CACHE_SECONDS, settings.template_cache_seconds))
        else:
            described = [d for d in (describe(t) for t in raw) if d is not None]
            fresh = Listing(described, None, time.monotonic() + settings.template_cache_seconds)
        _cache[account.id] = fresh
        return fresh


def error_text(error: ChannelError) -> str:
    """A listing failure in the agent's language (the current inbox request's; English elsewhere)."""
    code = graph.as_int(error.platform_code)
    if code in LIST_REASONS:
        return _(LIST_REASONS[code])
    if code in graph.RATE_LIMIT_CODES or error.platform_code == "429":
        return _(RATE_LIMITED)
    if error.platform_code is None:
        return _(UNREACHABLE).format(details=error.message)
    return _(FAILED).format(code=error.platform_code, details=error.message)


def send_error(error: ChannelError, choice: dict[str, Any], language: str) -> ChannelError:
    """A permanent refusal of a template send, reworded in `language` (the replying agent's);
    retryable errors (limits, Meta's trouble) keep their wording: the core retries them."""
    if error.retryable:
        return error
    code = graph.as_int(error.platform_code)
    name, lang = str(choice.get("name") or "")[:100], str(choice.get("language") or "")[:20]
    text = (_(SEND_REASONS[code], language).format(name=name, language=lang) if code in SEND_REASONS
            else _(SEND_FAILED, language).format(name=name, code=error.platform_code, details=error.message))
    return ChannelError(text, retryable=False, platform_code=error.platform_code)


async def offered(account: Any, *, refresh: bool = False) -> tuple[list[dict[str, Any]], str | None]:
    """Configured templates (plugins.toml) and the approved ones Meta lists, and why listing failed."""
    settings = account.settings
    out = [{"name": t.name, "language": t.language, "category": "", "params": list(t.params), "text": t.text,
            "header": "", "footer": "", "examples": {}} for t in settings.templates]
    found = await listing(account, refresh=refresh)
    known = {(t["name"], t["language"]) for t in out}
    out += [t for t in found.templates if (t["name"], t["language"]) not in known]
    return out, (error_text(found.error) if found.error else None)
