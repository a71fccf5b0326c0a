"""Automation rules: when an event happens and the conditions hold, run the actions.

A rule is a row of automation_rules: `event` (created, customer_replied, agent_replied, assigned,
solved, sla_warning, sla_breach, or a plugin's "<plugin>.<name>"), `conditions` (an object, all must
hold) and `actions` (a list, run in order). core/defaults/rules.py calls `run` for every event.
Conditions may read business hours (a named calendar) and any field plugins return from
customer_context; actions may call a webhook (queued as a job, core/rule_webhooks.py) or notify
agents in the app (core/notifications.py).

Loop protection: actions run with a depth counter in a context variable. The events an action
causes are published inside that context, so a rule that reacts to them sees the depth; past
MAX_DEPTH nothing fires. A rule never fires on an event its own action caused.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from core.errors import N_, Invalid

if TYPE_CHECKING:
    from core.desk import Desk
    from core.events import Event

log = logging.getLogger("relaydesk.rules")

MAX_DEPTH = 3
TRIGGERS = ("created", "customer_replied", "agent_replied", "assigned", "solved", "status_changed",
            "note_added", "sla_warning", "sla_breach", "pool_alert")
# Time triggers: conditions.after_minutes says how long; run by the rules_time job.
TIME_TRIGGERS = ("pending_for", "no_reply_for")
LIST_CONDITIONS = ("channel", "language", "tags", "customer_tags", "priority", "status", "sentiment", "intent")
TEXT_CONDITIONS = ("text_contains", "text_regex")
# business_hours: {"calendar": "<name>", "inside": true|false}; fields: [{"field": "shopify.order_status",
# "in": [...]} | {"field", "not_in": [...]} | {"field", "equals": v} | {"field", "exists": bool}], read
# from what plugins' customer_context hooks return.
OTHER_CONDITIONS = ("business_hours", "fields")
FIELD_TESTS = ("in", "not_in", "equals", "exists", "gte", "lte")  # gte/lte: numbers (an order's value)
ACTIONS = ("assign", "tag", "priority", "status", "note", "reply", "webhook", "notify", "message_customer")
# message_customer: {"text": template, "subject": template?, "channel": "<channel type>"?} reaches the
# customer on the ticket, or, for an event with no ticket but data.customer_id (a commerce event),
# through their open ticket on the channel they last used (or the one named), else a new pending
# ticket (core/proactive.py); the actions after it then work on that ticket.

# (depth, ids of the rules whose actions are running) for the current chain of events
_chain: contextvars.ContextVar[tuple[int, frozenset[int]]] = contextvars.ContextVar("rule_chain", default=(0, frozenset()))


@dataclass(slots=True, frozen=True)
class Rule:
    id: int
    name: str
    event: str
    conditions: dict[str, Any]
    actions: list[dict[str, Any]]


def validate(event: str, conditions: Any, actions: Any) -> None:
    """Raise ValueError saying what is wrong with a rule."""
    from core.tables import PRIORITIES, TICKET_STATUSES

    if event in TIME_TRIGGERS:
        after = conditions.get("after_minutes") if isinstance(conditions, dict) else None
        if not isinstance(after, int) or isinstance(after, bool) or after <= 0:
            raise Invalid(N_("conditions.after_minutes: a {event} rule needs a positive number of minutes"), event=event)
        conditions = {k: v for k, v in conditions.items() if k != "after_minutes"}
    elif event not in TRIGGERS and not re.fullmatch(r"[a-z0-9_]+\.[a-z0-9_]+", event or ""):
        raise Invalid(N_("event: {event} is not one of {triggers} nor a plugin event like \"shopify.fulfillment_created\""),
                      event=repr(event), triggers=", ".join(TRIGGERS + TIME_TRIGGERS))
    if not isinstance(conditions, dict):
        raise Invalid(N_("conditions: must be an object such as {example}"), example='{"channel": ["email"]}')
    unknown = set(conditions) - set(LIST_CONDITIONS) - set(TEXT_CONDITIONS) - set(OTHER_CONDITIONS)
    if unknown:
        raise Invalid(N_("conditions: unknown key(s) {unknown}; use {known}"), unknown=", ".join(sorted(unknown)),
                      known=", ".join(LIST_CONDITIONS + TEXT_CONDITIONS + OTHER_CONDITIONS))
    if "business_hours" in conditions:
        hours = conditions["business_hours"]
        if not isinstance(hours, dict) or not isinstance(hours.get("calendar"), str) or not hours["calendar"].strip() \
                or set(hours) - {"calendar", "inside"} or not isinstance(hours.get("inside", True), bool):
            raise Invalid(N_("conditions.business_hours: must be {example} (inside: false matches outside business hours)"),
                          example='{"calendar": "<calendar name>", "inside": true}')
    if "fields" in conditions:
        _validate_fields(conditions["fields"])
    for key in LIST_CONDITIONS + ("text_contains",):
        if key in conditions and (not isinstance(conditions[key], list) or not conditions[key]):
            raise Invalid(N_("conditions.{key}: must be a non-empty list"), key=key)
    if "text_regex" in conditions:
        try:
            re.compile(conditions["text_regex"])
        except (re.error, TypeError) as exc:
            raise Invalid(N_("conditions.text_regex: not a valid regular expression ({error})"), error=str(exc)) from None
    if not isinstance(actions, list) or not actions:
        raise Invalid(N_("actions: must be a non-empty list such as {example}"), example='[{"tag": "vip"}]')
    for i, action in enumerate(actions):
        if not isinstance(action, dict) or len(action) != 1 or next(iter(action)) not in ACTIONS:
            raise Invalid(N_("actions[{i}]: must be one of {actions} as {example}"), i=i, actions=", ".join(ACTIONS),
                          example='{"name": value}')
        (name, value), = action.items()
        if name == "assign" and not (isinstance(value, int) or value is None):
            raise Invalid(N_("actions[{i}].assign: must be an agent id or null"), i=i)
        if name == "priority" and value not in PRIORITIES and value != "raise":
            raise Invalid(N_("actions[{i}].priority: must be one of {priorities}, or \"raise\" (one step up)"), i=i,
                          priorities=", ".join(PRIORITIES))
        if name == "status" and value not in TICKET_STATUSES:
            raise Invalid(N_("actions[{i}].status: must be one of {statuses}"), i=i, statuses=", ".join(TICKET_STATUSES))
        if name in ("tag", "note", "reply") and (not isinstance(value, str) or not value.strip()):
            raise Invalid(N_("actions[{i}].{name}: must be a non-empty text"), i=i, name=name)
        if name == "webhook":
            _validate_webhook(value, f"actions[{i}].webhook")
        if name == "notify":
            _validate_notify(value, f"actions[{i}].notify")
        if name == "message_customer":
            _validate_message(value, f"actions[{i}].message_customer")
        if name == "reply":
            from jinja2 import TemplateSyntaxError
            from jinja2.sandbox import SandboxedEnvironment

            try:
                SandboxedEnvironment().from_string(value)
            except TemplateSyntaxError as exc:
                raise Invalid(N_("actions[{i}].reply: template error on line {line}: {error}"), i=i, line=exc.lineno,
                              error=exc.message) from None


def _validate_fields(fields: Any) -> None:
    if not isinstance(fields, list) or not fields:
        raise Invalid(N_("conditions.fields: must be a non-empty list such as {example}"),
                      example='[{"field": "shopify.order_status", "in": ["unfulfilled"]}]')
    for i, spec in enumerate(fields):
        where = f"conditions.fields[{i}]"
        if not isinstance(spec, dict) or not isinstance(spec.get("field"), str):
            raise Invalid(N_("{where}: must be an object with \"field\" (a dotted path such as \"shopify.order_status\")"),
                          where=where)
        if not re.fullmatch(r"[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*", spec["field"]):
            raise Invalid(N_("{where}.field: {field} is not a dotted path such as \"shopify.order_status\""), where=where,
                          field=repr(spec["field"]))
        tests = set(spec) - {"field"}
        if len(tests) != 1 or not tests <= set(FIELD_TESTS):
            raise Invalid(N_("{where}: give exactly one of {tests} besides \"field\""), where=where,
                          tests=", ".join(FIELD_TESTS))
        (test,) = tests
        if test in ("in", "not_in") and (not isinstance(spec[test], list) or not spec[test]):
            raise Invalid(N_("{where}.{test}: must be a non-empty list of values"), where=where, test=test)
        if test == "exists" and not isinstance(spec[test], bool):
            raise Invalid(N_("{where}.exists: must be true or false"), where=where)
        if test in ("gte", "lte") and (not isinstance(spec[test], (int, float)) or isinstance(spec[test], bool)):
            raise Invalid(N_("{where}.{test}: must be a number"), where=where, test=test)


def _validate_webhook(value: Any, where: str) -> None:
    if not isinstance(value, dict) or set(value) - {"url", "secret_env"} or not isinstance(value.get("url"), str):
        raise Invalid(N_("{where}: must be {example} (secret_env: the environment variable holding the signing secret)"),
                      where=where, example='{"url": "https://...", "secret_env": "NAME"}')
    from urllib.parse import urlsplit

    url = value["url"].strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 2000:
        raise Invalid(N_("{where}.url: {url} is not an http(s) URL"), where=where, url=repr(url))
    secret = value.get("secret_env")
    if secret is not None and not (isinstance(secret, str) and re.fullmatch(r"[A-Z_][A-Z0-9_]{0,127}", secret)):
        raise Invalid(N_("{where}.secret_env: the name of an environment variable such as \"RULE_WEBHOOK_SECRET\" "
                         "(the secret itself never goes in a rule)"), where=where)


def _validate_message(value: Any, where: str) -> None:
    if not isinstance(value, dict) or set(value) - {"text", "subject", "channel", "template"} \
            or not isinstance(value.get("text"), str) or not value["text"].strip() \
            or not all(isinstance(value.get(k, ""), str) for k in ("subject", "channel")):
        raise Invalid(N_("{where}: must be {example}; channel: a channel type, left out for the one the customer last used"),
                      where=where, example='{"text": "...", "subject": "...", "channel": "email"}')
    from jinja2 import TemplateSyntaxError
    from jinja2.sandbox import SandboxedEnvironment

    template = value.get("template")
    if template is not None and not (
            isinstance(template, dict) and not set(template) - {"name", "language", "params"}
            and isinstance(template.get("name"), str) and template["name"] and isinstance(template.get("language"), str)
            and isinstance(template.get("params", {}), dict)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in template.get("params", {}).items())):
        raise Invalid(N_("{where}.template: must be {example}, the template the channel offers when free text is not allowed"),
                      where=where, example='{"name": "order_update", "language": "en_US", "params": {"1": "{{ event.data.order_name }}"}}')
    for key in ("text", "subject"):
        try:
            SandboxedEnvironment().from_string(value.get(key) or "")
        except TemplateSyntaxError as exc:
            raise Invalid(N_("{where}.{key}: template error on line {line}: {error}"), where=where, key=key,
                          line=exc.lineno, error=exc.message) from None


def _validate_notify(value: Any, where: str) -> None:
    from core.notifications import validate_target

    if not isinstance(value, dict) or "to" not in value or set(value) - {"to", "text"}:
        raise Invalid(N_("{where}: must be {example}; to: assignee, team, supervisors, agent:<id> or team:<id>"),
                      where=where, example='{"to": "supervisors", "text": "..."}')
    validate_target(value["to"], f"{where}.to")
    if "text" in value:
        if not isinstance(value["text"], str) or not value["text"].strip():
            raise Invalid(N_("{where}.text: must be a non-empty text (or leave it out)"), where=where)
        from jinja2 import TemplateSyntaxError
        from jinja2.sandbox import SandboxedEnvironment

        try:
            SandboxedEnvironment().from_string(value["text"])
        except TemplateSyntaxError as exc:
            raise Invalid(N_("{where}.text: template error on line {line}: {error}"), where=where, line=exc.lineno,
                          error=exc.message) from None


async def check_references(conditions: dict[str, Any], actions: list[dict[str, Any]]) -> None:
    """What `validate` cannot see without the database: agents, teams and calendars a rule names."""
    from core.tables import Agent, BusinessCalendar, Team

    hours = conditions.get("business_hours") if isinstance(conditions, dict) else None
    if hours and not await BusinessCalendar.exists().where(BusinessCalendar.name == hours["calendar"]):
        raise Invalid(N_("conditions.business_hours.calendar: there is no calendar named {name}"),
                      name=repr(hours["calendar"]))
    for i, action in enumerate(actions):
        agent_id = action.get("assign")
        if agent_id is not None and not await Agent.exists().where(Agent.id == agent_id):
            raise Invalid(N_("actions[{i}].assign: agent {agent} does not exist"), i=i, agent=agent_id)
        target = (action.get("notify") or {}).get("to") if isinstance(action.get("notify"), dict) else None
        if isinstance(target, str) and ":" in target:
            kind, _, value = target.partition(":")
            table = Agent if kind == "agent" else Team
            if not await table.exists().where(table.id == int(value)):
                raise Invalid(N_("actions[{i}].notify.to: {kind} {id} does not exist"), i=i, kind=kind, id=value)


_MISSING = object()


def field_values(context: Any, path: str) -> list[Any]:
    """Every value at a dotted path in plugin context; lists on the way are searched element-wise
    ("orders.status" gives the status of each order)."""
    values = [context]
    for part in path.split("."):
        found: list[Any] = []
        for value in values:
            items = value if isinstance(value, list) else [value]
            for item in items:
                if isinstance(item, dict) and part in item:
                    found.append(item[part])
        values = found
    out: list[Any] = []
    for value in values:
        out.extend(value if isinstance(value, list) else [value])
    return [v for v in out if v is not None]


def _field_holds(spec: dict[str, Any], context: Any) -> bool:
    values = field_values(context or {}, spec["field"])
    if "exists" in spec:
        return bool(values) == spec["exists"]
    if "equals" in spec:
        return spec["equals"] in values
    if "in" in spec:
        return any(v in spec["in"] for v in values)
    if "gte" in spec or "lte" in spec:
        numbers = [_number(v) for v in values]
        if "gte" in spec:
            return any(n is not None and n >= spec["gte"] for n in numbers)
        return any(n is not None and n <= spec["lte"] for n in numbers)
    return not any(v in spec["not_in"] for v in values)


def _number(value: Any) -> float | None:
    """A number from context: a float, an int, or a money string such as "409.94"."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return None


_regex_cache: dict[str, re.Pattern[str]] = {}


def matches(rule: Rule, ctx: dict[str, Any]) -> bool:
    """Do the rule's conditions hold for this context (ticket fields, text, tags, customer_tags)?"""
    c = rule.conditions
    if "channel" in c and ctx.get("channel_type") not in c["channel"]:
        return False
    if "language" in c and (ctx.get("language") or "").split("-")[0] not in c["language"]:
        return False
    if "priority" in c and ctx.get("priority") not in c["priority"]:
        return False
    if "status" in c and ctx.get("status") not in c["status"]:
        return False
    if "sentiment" in c and ctx.get("sentiment") not in c["sentiment"]:
        return False
    if "intent" in c and ctx.get("intent") not in c["intent"]:
        return False
    if "tags" in c and not set(c["tags"]) & set(ctx.get("tags") or ()):
        return False
    if "customer_tags" in c and not set(c["customer_tags"]) & set(ctx.get("customer_tags") or ()):
        return False
    text = (ctx.get("text") or "").lower()
    if "text_contains" in c and not any(word.lower() in text for word in c["text_contains"]):
        return False
    if "text_regex" in c:
        pattern = _regex_cache.get(c["text_regex"]) or _regex_cache.setdefault(
            c["text_regex"], re.compile(c["text_regex"], re.IGNORECASE))
        if not pattern.search(ctx.get("text") or ""):
            return False
    if "business_hours" in c:
        spec = c["business_hours"]
        calendar = (ctx.get("calendars") or {}).get(spec["calendar"])
        if calendar is None:  # deleted or broken calendar: the condition cannot hold
            return False
        now = ctx.get("now")
        if now is None:
            from core import clock

            now = clock.now()
        inside = calendar.between(now, now + timedelta(minutes=1)) > 0
        if inside != spec.get("inside", True):
            return False
    if "fields" in c and not all(_field_holds(spec, ctx.get("context")) for spec in c["fields"]):
        return False
    return True


def _loads(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


CACHE_SECONDS = 1.0
_cache: dict[str, Any] = {"at": -1.0, "rules": {}, "generation": 0}


def invalidate() -> None:
    """Forget the cached rules (after an admin edit, or a new desk)."""
    _cache["at"] = -1.0
    _cache["generation"] += 1


async def rules_for(event_name: str) -> list[Rule]:
    """Active rules for an event, by position. All rules are cached for a second: every event asks,
    and an edit taking a second to apply is fine."""
    import time

    from core.tables import AutomationRule

    if time.monotonic() - _cache["at"] >= CACHE_SECONDS:
        generation = _cache["generation"]
        by_event: dict[str, list[Rule]] = {}
        for r in await AutomationRule.select().where(AutomationRule.active == True).order_by(  # noqa: E712
                AutomationRule.position).order_by(AutomationRule.id):
            by_event.setdefault(r["event"], []).append(
                Rule(r["id"], r["name"], r["event"], _loads(r["conditions"]) or {}, _loads(r["actions"]) or []))
        if generation != _cache["generation"]:  # invalidated while we read: this may be stale
            return by_event.get(event_name, [])
        _cache.update(at=time.monotonic(), rules=by_event)
    return _cache["rules"].get(event_name, [])


async def context_for(event: "Event", rules: list[Rule] | tuple[Rule, ...] = (), desk: Any = None) -> dict[str, Any] | None:
    """What conditions read: the ticket's fields, tags, customer tags and text; for rules that need
    them, the business calendars and the plugins' customer_context (`ctx["context"]`)."""
    from core.tables import Customer, Message, Ticket, TicketTag

    ticket = await Ticket.select().where(Ticket.id == event.ticket_id).first()
    if ticket is None:
        return None
    ctx = dict(ticket)
    ctx["tags"] = [r["tag"] for r in await TicketTag.select(TicketTag.tag).where(TicketTag.ticket == event.ticket_id)]
    customer = await Customer.select(Customer.tags).where(Customer.id == ticket["customer"]).first()
    ctx["customer_tags"] = list(_loads(customer["tags"]) or []) if customer else []
    if any("business_hours" in r.conditions for r in rules):
        from core import clock, sla

        ctx["calendars"] = await sla.load_calendars()
        ctx["now"] = clock.now()
    if desk is not None and any("fields" in r.conditions or _writes(r) for r in rules):
        from core.context import customer_context

        full = await Customer.select().where(Customer.id == ticket["customer"]).first() or {"id": ticket["customer"]}
        full["tags"] = ctx["customer_tags"]
        ctx["context"] = await customer_context(desk, full, dict(ticket))
    query = Message.select(Message.text).where(Message.ticket == event.ticket_id)
    if event.message_id:
        query = query.where(Message.id == event.message_id)
    else:
        query = query.where(Message.direction == "inbound").order_by(Message.id, ascending=False)
    message = await query.first()
    ctx["text"] = message["text"] if message else ""
    ctx["event"] = event.to_dict()
    return ctx


def _writes(rule: Rule) -> bool:
    """Does the rule write to the customer (its templates may read the order's fields)?"""
    return any(next(iter(a)) in ("reply", "message_customer") for a in rule.actions)


async def context_without_ticket(event: "Event", desk: Any) -> dict[str, Any] | None:
    """For an event about a customer with no ticket (a commerce event): what conditions and
    templates read, the customer's tags and the plugins' customer_context; ticket fields are empty."""
    from core.context import customer_context
    from core.tables import Customer

    customer_id = (event.data or {}).get("customer_id")
    if not isinstance(customer_id, int) or isinstance(customer_id, bool):
        return None
    customer = await Customer.select().where(Customer.id == customer_id).first()
    if customer is None:
        return None
    while customer.get("merged_into"):  # a merged customer's events reach the survivor
        customer = await Customer.select().where(Customer.id == customer["merged_into"]).first()
        if customer is None:
            return None
    customer["tags"] = list(_loads(customer.get("tags")) or [])
    ctx: dict[str, Any] = {"id": None, "customer": customer["id"], "customer_tags": customer["tags"], "tags": [],
                           "text": "", "event": event.to_dict()}
    ctx["context"] = await customer_context(desk, customer, None) if desk is not None else {}
    return ctx


async def run(desk: "Desk", event: "Event") -> int:
    """Fire the rules for one event. Returns how many fired. An event with no ticket fires only
    rules that can act without one (message_customer first), for the customer in data.customer_id."""
    if event.ticket_id is None:
        return await _run_without_ticket(desk, event)
    depth, running = _chain.get()
    if depth >= MAX_DEPTH:
        log.warning("rules stopped on ticket %s: chain of %s rule actions reached the limit", event.ticket_id, depth)
        return 0
    rules = await rules_for(event.name)
    if not rules:
        return 0
    ctx = await context_for(event, rules, desk)
    if ctx is None:
        return 0
    fired = 0
    for rule in rules:
        if rule.id in running or not matches(rule, ctx):
            continue
        token = _chain.set((depth + 1, running | {rule.id}))
        try:
            await _act(desk, rule, ctx)
        finally:
            _chain.reset(token)
        fired += 1
    return fired


async def _run_without_ticket(desk: "Desk", event: "Event") -> int:
    depth, running = _chain.get()
    if depth >= MAX_DEPTH or not (event.data or {}).get("customer_id"):
        return 0
    rules = [r for r in await rules_for(event.name) if r.actions and next(iter(r.actions[0])) == "message_customer"]
    if not rules:
        return 0
    ctx = await context_without_ticket(event, desk)
    if ctx is None:
        return 0
    fired = 0
    for rule in rules:
        if rule.id in running or not matches(rule, {**ctx, "id": None}):
            continue
        token = _chain.set((depth + 1, running | {rule.id}))
        try:
            await _act(desk, rule, {**ctx, "id": None})
        finally:
            _chain.reset(token)
        fired += 1
    return fired


async def run_time_rules(desk: "Desk", now: Any = None, limit: int = 500) -> int:
    """Fire pending_for / no_reply_for rules for tickets that have waited long enough, each once per
    waiting period (rule_firings). Reads by the status/updated_at and last_message_at indexes."""
    from datetime import timedelta

    from core import clock, db
    from core.events import Event
    from core.tables import Ticket

    now = now or clock.now()
    fired = 0
    for trigger in TIME_TRIGGERS:
        for rule in await rules_for(trigger):
            cutoff = now - timedelta(minutes=rule.conditions["after_minutes"])
            if trigger == "pending_for":
                rows = await Ticket.select(Ticket.id, Ticket.updated_at).where(
                    (Ticket.status == "pending") & (Ticket.updated_at <= cutoff)).order_by(Ticket.updated_at).limit(limit)
                due = [(r["id"], r["updated_at"]) for r in rows]
            else:  # the customer wrote last and nobody answered since
                rows = await Ticket.select(Ticket.id, Ticket.last_message_at, Ticket.last_customer_message_at).where(
                    Ticket.status.is_in(["new", "open"]) & (Ticket.last_message_at <= cutoff)
                ).order_by(Ticket.last_message_at).limit(limit)
                due = [(r["id"], r["last_message_at"]) for r in rows
                       if r["last_customer_message_at"] is not None and r["last_customer_message_at"] >= r["last_message_at"]]
            for ticket_id, anchor in due:
                claimed = await db.fetch(
                    "INSERT INTO rule_firings (rule, ticket, anchor) VALUES ({}, {}, {}) ON CONFLICT DO NOTHING RETURNING id",
                    rule.id, ticket_id, anchor)
                if not claimed:
                    continue
                ctx = await context_for(Event(trigger, ticket_id), [rule], desk)
                if ctx is None or not matches(rule, ctx):
                    continue
                token = _chain.set((1, frozenset({rule.id})))
                try:
                    await _act(desk, rule, ctx)
                finally:
                    _chain.reset(token)
                fired += 1
    return fired


async def run_time_rules_job(ctx: dict[str, Any]) -> None:
    await run_time_rules(ctx["desk"])


async def _act(desk: "Desk", rule: Rule, ctx: dict[str, Any]) -> None:
    from core import audit, outbound, tickets
    from core.tables import PRIORITIES

    actor = f"rule:{rule.id}"
    ticket_id = ctx["id"]
    if ticket_id is not None:
        await audit.record(actor, "rule_fired", "ticket", ticket_id, {"rule": rule.name, "event": ctx["event"]["name"]})
    for action in rule.actions:
        (name, value), = action.items()
        if name == "message_customer":
            ticket_id = await _message_customer(desk, rule, ctx, value)
            if ticket_id is None:
                return  # nobody to write to, or the channel refused the text: the rest needs the ticket
            continue
        if name == "assign":
            await tickets.update_ticket(desk, ticket_id, actor=actor, assignee=value)
        elif name == "tag":
            await tickets.update_ticket(desk, ticket_id, actor=actor, add_tags=[value])
        elif name == "priority":
            if value == "raise":  # dynamic priority: e.g. the customer writes again, angrier
                current = PRIORITIES.index(ctx.get("priority") or "normal")
                value = PRIORITIES[max(0, current - 1)]
                ctx["priority"] = value
            await tickets.update_ticket(desk, ticket_id, actor=actor, priority=value)
        elif name == "status":
            await tickets.update_ticket(desk, ticket_id, actor=actor, status=value)
        elif name == "note":
            await outbound.add_note(desk, ticket_id, author_id=None, text=value)
        elif name == "reply":
            await outbound.reply(desk, ticket_id, author_id=None, text=render(value, ctx))
        elif name == "webhook":
            from core import rule_webhooks

            await rule_webhooks.queue(desk, rule.id, ticket_id, value["url"].strip(), value.get("secret_env"),
                                      webhook_payload(rule, ctx))
        elif name == "notify":
            from core import notifications

            spec = notifications.resolve_target(value["to"], ctx)
            text = render(value.get("text") or "Rule \"{{ rule }}\" on ticket #{{ ticket.id }}: {{ ticket.subject }}",
                          ctx, rule=rule.name)
            if spec is None:
                log.info("rule %s: notify %s on ticket %s found nobody", rule.id, value["to"], ticket_id)
            else:
                await notifications.notify(spec, text, ticket_id=ticket_id, kind="rule", desk=desk)


async def _message_customer(desk: "Desk", rule: Rule, ctx: dict[str, Any], value: dict[str, Any]) -> int | None:
    """Write to the customer (message_customer); returns the ticket it went through, or None."""
    from core import audit, outbound, proactive
    from core.errors import Conflict, DraftRejected, InvalidRequest, NotFound

    actor = f"rule:{rule.id}"
    text = render(value["text"], ctx)
    if ctx["id"] is not None:
        await outbound.reply(desk, ctx["id"], author_id=None, text=text, status="pending")
        return ctx["id"]
    subject = render(value.get("subject") or "{{ rule }}", ctx, rule=rule.name).strip() or rule.name
    template = value.get("template")
    if template:
        template = {**template, "params": {k: render(v, ctx) for k, v in (template.get("params") or {}).items()}}
    try:
        ticket_id, _message = await proactive.send(desk, ctx["customer"], text, subject=subject,
                                                   channel_type=value.get("channel") or None, template=template)
    except (NotFound, Conflict, InvalidRequest, DraftRejected) as exc:
        log.info("rule %s: message to customer %s not sent: %s", rule.id, ctx["customer"], exc)
        return None
    ctx["id"] = ticket_id
    await audit.record(actor, "rule_fired", "ticket", ticket_id, {"rule": rule.name, "event": ctx["event"]["name"]})
    return ticket_id


TICKET_FIELDS = ("id", "subject", "priority", "status", "language", "channel_type", "tags", "assignee", "team",
                 "intent", "sentiment", "customer")


def render(template: str, ctx: dict[str, Any], **extra: Any) -> str:
    """A reply template, in jinja2's sandbox: it is text an admin typed. Besides `ticket`, it reads
    the event (`event.data`) and what plugins return from customer_context, by key (`shopify.order_number`,
    `orders`), when the rule writes to the customer."""
    from jinja2.sandbox import SandboxedEnvironment

    fields = {k: ctx.get(k) for k in TICKET_FIELDS}
    plugin = {k: v for k, v in (ctx.get("context") or {}).items() if k not in ("ticket", "event", "rule")}
    return SandboxedEnvironment(autoescape=False).from_string(template).render(
        **plugin, ticket=fields, event=ctx.get("event") or {}, **extra)


def webhook_payload(rule: Rule, ctx: dict[str, Any]) -> dict[str, Any]:
    """What a rule's webhook receives: the rule, the event and the ticket's main fields."""
    from core import clock

    return {"type": "rule_fired", "rule": {"id": rule.id, "name": rule.name}, "event": ctx.get("event"),
            "ticket": {k: ctx.get(k) for k in TICKET_FIELDS}, "customer_tags": ctx.get("customer_tags") or [],
            "sent_at": clock.now().isoformat()}
