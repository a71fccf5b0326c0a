"""Message templates a channel offers when free-form replies are closed (the ``templates`` of the
reply_constraints hook, e.g. WhatsApp's approved templates): ordered by the ticket's language,
filled with the agent's values and checked before anything is queued.

A template is ``{"name", "language", "params", "text"}`` (``text`` holds ``{{param}}``
placeholders; ``header`` and ``footer`` are optional static text). Sending one is a reply whose
text is the filled template as the customer will read it, with
``metadata["template"] = {"name", "language", "params": {param: value}}`` for the channel plugin.
Refusals are ``InvalidRequest`` (400) caused by an ``Invalid`` whose template the inbox translates.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from core.errors import N_, Invalid, InvalidRequest

if TYPE_CHECKING:
    from core.desk import Desk

log = logging.getLogger("relaydesk.reply_templates")

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
MAX_VALUE = 1024  # a value longer than a whole template body (1024 characters at Meta) is a mistake
MAX_PARAMS = 100
# Meta refuses a parameter with a new line, a tab or more than four spaces in a row.
BAD_SPACING = re.compile(r"[\n\r\t]| {5,}")


def refusal(template: str, **params: Any) -> InvalidRequest:
    problem = Invalid(template, **params)
    error = InvalidRequest(str(problem), code="template_invalid")
    error.__cause__ = problem
    return error


def _primary(code: Any) -> str:
    return str(code or "").replace("-", "_").split("_")[0].lower()


def order_by_language(templates: list[dict[str, Any]], language: str | None) -> list[dict[str, Any]]:
    """The customer's language first: "de" matches "de" and "de_DE" (an exact code before a
    regional one), then every other language; by name within each group."""
    wanted = str(language or "").replace("-", "_").lower()
    primary = _primary(language)

    def rank(template: dict[str, Any]) -> tuple[int, str, str]:
        code = str(template.get("language") or "").replace("-", "_").lower()
        if wanted and code == wanted:
            group = 0
        elif primary and _primary(code) == primary:
            group = 1
        else:
            group = 2
        return group, str(template.get("name") or ""), code

    return sorted(templates, key=rank)


def key(template: dict[str, Any]) -> str:
    """How a form names a template: "name:language" (neither contains a colon at Meta)."""
    return f"{template.get('name')}:{template.get('language')}"


def find(templates: list[dict[str, Any]], name: str, language: str) -> dict[str, Any]:
    for template in templates:
        if template.get("name") == name and template.get("language") == language:
            return template
    raise refusal(N_("there is no approved template {name} in language {language} for this ticket"),
                  name=name[:100], language=language[:20])


def render(template: dict[str, Any], values: dict[str, str], *, blank: str = "{{{{{name}}}}}") -> str:
    """The message as the customer reads it: header, body and footer with the values filled in;
    a value not given yet shows as `blank` (its placeholder, by default)."""
    def fill(match: re.Match[str]) -> str:
        value = values.get(match.group(1), "")
        return value if value.strip() else blank.format(name=match.group(1))

    parts = [str(template.get("header") or ""), PLACEHOLDER.sub(fill, str(template.get("text") or "")),
             str(template.get("footer") or "")]
    return "\n\n".join(p for p in parts if p.strip())


def check(template: dict[str, Any], values: dict[str, Any]) -> dict[str, str]:
    """The values for the template's variables, or a refusal: each variable needs a value (not
    empty), no unknown ones, each at most MAX_VALUE characters on one line."""
    params = [str(p) for p in template.get("params") or []]
    if not isinstance(values, dict) or len(values) > MAX_PARAMS:
        raise refusal(N_("template values must be a mapping of at most {limit} variables"), limit=MAX_PARAMS)
    unknown = sorted(str(k)[:40] for k in values if str(k) not in params)
    if unknown:
        raise refusal(N_("template {name} has no variable {unknown}; its variables are: {params}"),
                      name=template.get("name"), unknown=", ".join(unknown[:5]), params=", ".join(params) or "-")
    out: dict[str, str] = {}
    for param in params:
        value = values.get(param)
        if not isinstance(value, str) or not value.strip():
            raise refusal(N_("fill in variable {{{{{param}}}}} of template {name}"), param=param, name=template.get("name"))
        if len(value) > MAX_VALUE:
            raise refusal(N_("variable {{{{{param}}}}} is longer than {limit} characters"), param=param, limit=MAX_VALUE)
        if BAD_SPACING.search(value):
            raise refusal(N_("variable {{{{{param}}}}} must be one line without tabs or runs of spaces"), param=param)
        out[param] = value.strip()
    return out


def positional(template: dict[str, Any], values: list[Any]) -> dict[str, Any]:
    """A list of values for ``{{1}}``, ``{{2}}``... as the mapping `check` takes; the count must match."""
    params = [str(p) for p in template.get("params") or []]
    if len(values) != len(params):
        raise refusal(N_("template {name} takes {expected} values, not {given}"), name=template.get("name"),
                      expected=len(params), given=len(values))
    return dict(zip(params, values))


async def offered(desk: "Desk", ticket: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The ticket's reply constraints and the templates they offer (in language order)."""
    from core import context

    limits = await context.reply_constraints(desk, ticket)
    return limits, list(limits.get("templates") or [])


async def compose(desk: "Desk", ticket: dict[str, Any], name: str, language: str,
                  values: dict[str, Any] | list[Any]) -> tuple[str, dict[str, Any]]:
    """(text, metadata) of a reply that sends this template with these values, or a refusal."""
    _, templates = await offered(desk, ticket)
    if not templates:
        raise refusal(N_("this ticket's channel offers no message templates right now"))
    template = find(templates, name, language)
    mapping = positional(template, values) if isinstance(values, list) else values
    filled = check(template, mapping)
    text = render(template, filled)
    return text, {"template": {"name": template["name"], "language": template["language"], "params": filled}}


async def refresh(desk: "Desk", ticket: dict[str, Any]) -> None:
    """Ask the ticket's channel plugin to fetch its templates again (refresh_reply_templates)."""
    from core.events import await_me_maybe

    account = desk.registry.account_by_id(ticket["account"]) if ticket.get("account") else None
    if account is None:
        return
    for impl in desk.registry.hook.refresh_reply_templates.get_hookimpls():
        try:
            await await_me_maybe(impl.function(channel_type=account.channel_type, account=account))
        except Exception:  # the plugin reports its own failures through templates_error
            log.exception("refresh_reply_templates of %s failed", impl.plugin_name)
