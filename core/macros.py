"""Reply templates (macros): jinja2 rendered in the sandbox with the ticket, the customer, the agent
and what plugins know (core.context.customer_context: order numbers, tracking links...).

A macro has a version per channel and per language: rows share a shortcut and differ in
channel_type / language (NULL = any). `pick` chooses the most specific version for a ticket.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from core import audit, clock
from core.context import customer_context
from core.errors import InvalidRequest, NotFound
from core.tables import Customer, Macro, Ticket

if TYPE_CHECKING:
    from core.desk import Desk

MAX_BODY = 20_000
MAX_OUTPUT = 100_000

_env = ImmutableSandboxedEnvironment(autoescape=False, undefined=StrictUndefined)


def check(name: str, shortcut: str, body: str) -> None:
    if not name.strip() or not shortcut.strip():
        raise InvalidRequest("a reply template needs a name and a shortcut")
    if len(body) > MAX_BODY:
        raise InvalidRequest(f"the template is longer than {MAX_BODY} characters")
    try:
        _env.parse(body)
    except TemplateError as exc:
        raise InvalidRequest(f"the template does not parse: {exc}") from None


async def save(actor: str, *, macro_id: int | None, name: str, shortcut: str, body: str,
               channel_type: str | None = None, language: str | None = None) -> int:
    check(name, shortcut, body)
    values = {Macro.name: name.strip()[:200], Macro.shortcut: shortcut.strip().lstrip("/").lower()[:64],
              Macro.body: body, Macro.channel_type: channel_type or None, Macro.language: language or None,
              Macro.updated_at: clock.now()}
    if macro_id is None:
        rows = await Macro.insert(Macro(**{c._meta.name: v for c, v in values.items()})).returning(Macro.id)
        macro_id = rows[0]["id"]
        await audit.record(actor, "create", "macro", macro_id, {"name": name})
    else:
        rows = await Macro.update(values).where(Macro.id == macro_id).returning(Macro.id)
        if not rows:
            raise NotFound(f"reply template {macro_id} does not exist")
        await audit.record(actor, "update", "macro", macro_id, {"name": name})
    return macro_id


async def delete(actor: str, macro_id: int) -> None:
    await Macro.delete().where(Macro.id == macro_id)
    await audit.record(actor, "delete", "macro", macro_id)


async def find(query: str, *, channel_type: str | None = None, language: str | None = None,
               limit: int = 10) -> list[dict[str, Any]]:
    """Templates whose name or shortcut contains the query, one version per shortcut (the best one
    for this channel and language)."""
    rows = await Macro.select().order_by(Macro.shortcut)
    needle = query.strip().lstrip("/").lower()
    best: dict[str, dict[str, Any]] = {}
    for row in rows:
        if needle and needle not in row["shortcut"].lower() and needle not in row["name"].lower():
            continue
        score = _fit(row, channel_type, language)
        if score < 0:
            continue
        current = best.get(row["shortcut"])
        if current is None or score > _fit(current, channel_type, language):
            best[row["shortcut"]] = row
    return list(best.values())[:limit]


def _fit(row: dict[str, Any], channel_type: str | None, language: str | None) -> int:
    """How well a version fits: -1 when it is for another channel or language."""
    score = 0
    if row["channel_type"]:
        if row["channel_type"] != channel_type:
            return -1
        score += 2
    if row["language"]:
        if not language or not (language == row["language"] or language.split("-")[0] == row["language"]):
            return -1
        score += 1
    return score


async def render_for_ticket(desk: "Desk", macro_id: int, ticket_id: int, agent: dict[str, Any]) -> str:
    macro = await Macro.select().where(Macro.id == macro_id).first()
    if macro is None:
        raise NotFound(f"reply template {macro_id} does not exist")
    ticket = await Ticket.select().where(Ticket.id == ticket_id).first()
    if ticket is None:
        raise NotFound(f"ticket {ticket_id} does not exist")
    customer = await Customer.select().where(Customer.id == ticket["customer"]).first() or {}
    context = await customer_context(desk, customer, ticket)
    return render(macro["body"], ticket=ticket, customer=customer, agent=agent, context=context)


def render(body: str, *, ticket: dict[str, Any], customer: dict[str, Any], agent: dict[str, Any],
           context: dict[str, Any]) -> str:
    """Render in the sandbox. Plugin context is available whole as `context` and by key at the top."""
    values = {**context, "context": context, "ticket": _public(ticket), "customer": _public(customer),
              "agent": {"name": agent.get("name"), "email": agent.get("email")}}
    try:
        out = _env.from_string(body).render(values)
    except TemplateError as exc:
        raise InvalidRequest(f"the template could not be rendered: {exc}") from None
    return out[:MAX_OUTPUT]


def _public(row: dict[str, Any]) -> dict[str, Any]:
    hidden = {"password_hash"}
    return {k: v for k, v in row.items() if k not in hidden}
