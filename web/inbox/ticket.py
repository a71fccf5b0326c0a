"""The ticket view: the customer's timeline over every channel and ticket, the reply box with the
channel's limits, internal notes, editable properties, the customer panel and plugin panels."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.response import File, Redirect, Template
from markupsafe import Markup

from core import context as core_context
from core import db
from core import macros as core_macros
from core import outbound, reply_files
from core.bounds import parse_id
from core.errors import N_, Invalid, InvalidRequest, NotFound, ReplyCollision
from core.merge import duplicates, merge_customers
from core.tables import PRIORITIES, TICKET_STATUSES, Agent, Attachment, Customer, Message
from core.tickets import tags_of, update_ticket
from core.types import InboundAttachment
from core.visibility import Viewer
from web.api.params import OptionalId
from web.inbox import images
from web.inbox.common import chosen_id, form_value, is_htmx, page
from web.inbox.panel_html import clean_panel
from web.sessions import page_guard, session_agent
from web.strict import check_form_text
from web.visibility import viewer

TIMELINE_LIMIT = 200
NOTE_FILES = N_("Internal notes cannot carry files; choose Reply to send them to the customer.")


def not_found(template: str, **params: Any) -> NotFound:
    """A 404 the inbox shows in the agent's language (web.i18n.translate_error reads the cause)."""
    problem = Invalid(template, **params)
    error = NotFound(str(problem))
    error.__cause__ = problem
    return error


async def _ticket(ticket_id: int) -> dict[str, Any]:
    rows = await db.fetch("SELECT * FROM tickets WHERE id = {}", ticket_id)
    ticket = rows[0] if rows else None
    if ticket is None:
        raise not_found(N_("ticket {ticket_id} does not exist"), ticket_id=ticket_id)
    return ticket


def last_seen(rows: list[dict[str, Any]], ticket_id: int) -> int:
    """The newest message of this ticket among what the page shows: the reply's collision guard."""
    return max((r["id"] for r in rows if r["ticket"] == ticket_id), default=0)


def _loads(value: Any, default: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value or "null") or default
        except ValueError:
            return default
    return value or default


def _marks(values: list[Any]) -> str:
    return ", ".join("{}" for _ in values)


async def _customer_tickets(customer_id: int, seen: Viewer) -> list[dict[str, Any]]:
    """The customer's tickets the agent may see (core.visibility), newest first: the timeline's and
    the customer panel's (one query)."""
    visible, args = seen.sql()
    return await db.fetch("SELECT id, subject, status, channel_type FROM tickets WHERE customer = {} "
                          f"AND {visible} ORDER BY id DESC", customer_id, *args)


async def timeline(customer_id: int, show_images: int | None = None,
                   customer_tickets: list[dict[str, Any]] | None = None, *, seen: Viewer) -> list[dict[str, Any]]:
    """The customer's messages on every channel and ticket `seen` may see, oldest first (the latest 200). Remote
    images stay hidden (web.inbox.images) except in the message `show_images` names.

    The page's reads are plain statements (core.db.fetch): piccolo's query builder cost more CPU
    than the database on this page, which every agent opens all day."""
    if customer_tickets is None:
        customer_tickets = await _customer_tickets(customer_id, seen)
    tickets = {t["id"]: t for t in customer_tickets}
    if not tickets:
        return []
    ids = list(tickets)
    rows = await db.fetch(
        "SELECT id, ticket, direction, author, customer, subject, text, html, delivery_status, delivery_error, "
        f"created_at, metadata FROM messages WHERE ticket IN ({_marks(ids)}) ORDER BY id DESC LIMIT {TIMELINE_LIMIT}",
        *ids)
    rows.reverse()
    author_ids = sorted({r["author"] for r in rows if r["author"]})
    authors = {r["id"]: r["name"] for r in await db.fetch(
        f"SELECT id, name FROM agents WHERE id IN ({_marks(author_ids)})", *author_ids)} if author_ids else {}
    people_ids = sorted({r["customer"] for r in rows if r["customer"]})
    people = {r["id"]: r["name"] or r["email"] for r in await db.fetch(
        f"SELECT id, name, email FROM customers WHERE id IN ({_marks(people_ids)})", *people_ids)} if people_ids else {}
    files: dict[int, list[dict[str, Any]]] = {}
    if rows:
        message_ids = [r["id"] for r in rows]
        for item in await db.fetch("SELECT id, message, filename, size, content_type, inline FROM attachments "
                                   f"WHERE message IN ({_marks(message_ids)})", *message_ids):
            files.setdefault(item["message"], []).append(item)
    for row in rows:
        ticket = tickets[row["ticket"]]
        row["channel_type"] = ticket["channel_type"]
        row["ticket_subject"] = ticket["subject"]
        row["author_name"] = authors.get(row["author"])
        row["customer_name"] = people.get(row["customer"])
        row["attachments"] = files.get(row["id"], [])
        row["metadata"] = _loads(row["metadata"], {})
        row["withdrawn_at"] = _withdrawn_at(row["metadata"])
        # Stored HTML was sanitized by nh3 on ingest (core.sanitize); render() runs nh3 again to keep
        # remote images from loading and to drop relative links. Only that output is marked safe.
        row["images_shown"] = row["id"] == show_images
        row["safe_html"], row["remote_images"] = images.render(row["html"], row["id"], show=row["images_shown"])
    return rows


def _withdrawn_at(metadata: Any) -> Any:
    """When the customer took the message back (core.withdrawals), as a datetime for the page."""
    from datetime import datetime

    value = metadata.get("withdrawn_at") if isinstance(metadata, dict) else None
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


async def _customer_panel(customer_id: int, customer_tickets: list[dict[str, Any]], seen: Viewer) -> dict[str, Any]:
    rows = await db.fetch("SELECT * FROM customers WHERE id = {}", customer_id)
    customer = rows[0] if rows else {"id": customer_id}
    customer["tags"] = _loads(customer.get("tags"), [])
    identities = await db.fetch("SELECT channel_type, handle, display_name, email, phone FROM customer_identities "
                                "WHERE customer = {} ORDER BY id", customer_id)
    merged_from = await db.fetch("SELECT id, name, email FROM customers WHERE merged_into = {} ORDER BY id LIMIT 20",
                                 customer_id)
    return {"customer": customer, "identities": identities, "tickets": [dict(t) for t in customer_tickets[:20]],
            "merged_from": merged_from,
            "duplicates": await duplicates(customer, viewer=seen) if customer.get("id") else []}


async def ticket_context(request: Request, ticket_id: int, show_images: int | None = None) -> dict[str, Any]:
    desk = request.app.state.desk
    ticket = await _ticket(ticket_id)
    ticket["tags"] = (await tags_of([ticket_id]))[ticket_id]
    seen = await viewer(request, await session_agent(request))
    customer_tickets = await _customer_tickets(ticket["customer"], seen)
    panel = await _customer_panel(ticket["customer"], customer_tickets, seen)
    plugin_context = await core_context.customer_context(desk, panel["customer"], ticket)
    plugin_panels = await core_context.panels(desk, ticket, panel["customer"], plugin_context,
                                              await session_agent(request))
    for item in plugin_panels:
        # The hook says plugins escape what they interpolate; we sanitize as well, so a plugin
        # that forgot cannot put script into the inbox (or aim a form anywhere but its own routes).
        if item.get("html"):
            item["html"] = Markup(clean_panel(str(item["html"]), item["plugin"]))
    limits = await core_context.reply_constraints(desk, ticket)
    accounts = await db.fetch("SELECT name, plugin FROM channel_accounts WHERE id = {}",
                              ticket["account"]) if ticket["account"] else []
    account = accounts[0] if accounts else None
    rows = await timeline(ticket["customer"], show_images, customer_tickets, seen=seen)
    file_rules = reply_files.rules(limits, desk.settings.max_reply_files_bytes)
    return {
        "ticket": ticket, "timeline": rows, "last_seen": last_seen(rows, ticket_id), "limits": limits, "account": account,
        "file_rules": file_rules, "human_size": reply_files.human_size,
        "panels": plugin_panels, "agents": await db.fetch("SELECT id, name FROM agents WHERE active = {} ORDER BY name", True),
        "teams": await db.fetch("SELECT id, name FROM teams ORDER BY name"),
        "statuses": TICKET_STATUSES, "priorities": PRIORITIES, **panel,
    }


@get("/inbox/t/{ticket_id:int}", include_in_schema=False, guards=[page_guard("readonly")])
async def ticket_page(request: Request, ticket_id: int, queue: str = "open", images: OptionalId = None) -> Template:
    context = await ticket_context(request, ticket_id, show_images=images)
    # neighbours in the queue for j/k: the next and previous ids by the queue's own order
    return await page(request, "ticket/view.html", queue=queue, **context)


@get("/inbox/t/{ticket_id:int}/next", include_in_schema=False, guards=[page_guard("readonly")])
async def neighbour(request: Request, ticket_id: int, queue: str = "open", step: int = 1) -> Redirect:
    """j/k on a ticket: the next or previous ticket of the queue, in the queue's order."""
    from core import clock, ticket_filter
    from web.inbox.queues import page_of, queue_where

    agent = await session_agent(request)
    now = clock.now()
    seen = await viewer(request, agent)
    # through the one where-clause every list takes (core.ticket_filter.where)
    where = ticket_filter.where(ticket_filter.TicketFilter(), agent, now, seen=seen,
                                extra=[queue_where(queue, agent["id"], now)])
    rows = await page_of(where, None, 500)
    ids = [r["id"] for r in rows]
    if ticket_id in ids:
        index = min(max(ids.index(ticket_id) + (1 if step > 0 else -1), 0), len(ids) - 1)
        ticket_id = ids[index]
    elif ids:
        ticket_id = ids[0]
    return Redirect(path=f"/inbox/t/{ticket_id}?queue={queue}")


@get("/inbox/t/{ticket_id:int}/timeline", include_in_schema=False, guards=[page_guard("readonly")])
async def timeline_fragment(request: Request, ticket_id: int) -> Template:
    ticket = await _ticket(ticket_id)
    return await page(request, "ticket/_timeline.html", ticket=ticket, timeline=await timeline(
        ticket["customer"], seen=await viewer(request, await session_agent(request))))


@get("/inbox/t/{ticket_id:int}/properties", include_in_schema=False, guards=[page_guard("readonly")])
async def properties_fragment(request: Request, ticket_id: int) -> Template:
    return await page(request, "ticket/_properties.html", **await ticket_context(request, ticket_id))


async def _back(request: Request, ticket_id: int, fragment: str = "ticket/_timeline.html") -> Template | Redirect:
    if is_htmx(request):
        if fragment == "ticket/_timeline.html":
            ticket = await _ticket(ticket_id)
            return await page(request, fragment, ticket=ticket, timeline=await timeline(
        ticket["customer"], seen=await viewer(request, await session_agent(request))))
        return await page(request, fragment, **await ticket_context(request, ticket_id))
    return Redirect(path=f"/inbox/t/{ticket_id}")


@get("/inbox/t/{ticket_id:int}/head", include_in_schema=False, guards=[page_guard("readonly")])
async def head_fragment(request: Request, ticket_id: int, queue: str = "open") -> Template:
    return await page(request, "ticket/_head.html", ticket=await _ticket(ticket_id), queue=queue)


async def _uploaded(form: Any) -> list[InboundAttachment]:
    """The files of the reply form (multipart field "files"); an empty file input sends one part
    with neither a name nor bytes, which is no file."""
    out: list[InboundAttachment] = []
    values = form.getall("files", []) if hasattr(form, "getall") else []
    for value in values:
        if not isinstance(value, UploadFile):
            continue
        data = await value.read()
        if not data and not value.filename:
            continue
        out.append(InboundAttachment(filename=value.filename or "attachment", content_type=value.content_type or "",
                                     data=data))
    return out


@post("/inbox/t/{ticket_id:int}/reply", include_in_schema=False, guards=[page_guard("agent")])
async def reply(request: Request, ticket_id: int) -> Template | Redirect:
    """Send a reply (or add a note). The form is multipart when it carries files; the route's body
    limit follows [relaydesk] max_reply_files_bytes (web.inbox.setup)."""
    agent = await session_agent(request)
    form = await request.form()
    check_form_text(form)
    text, kind = form_value(form, "text"), form_value(form, "kind", "reply")
    seen = form_value(form, "last_seen")
    files = await _uploaded(form)
    desk = request.app.state.desk
    if kind == "note":
        if files:
            problem = Invalid(NOTE_FILES)
            raise InvalidRequest(str(problem)) from problem
        await outbound.add_note(desk, ticket_id, author_id=agent["id"], text=text)
    else:
        status = form_value(form, "status") or None
        if status and status not in TICKET_STATUSES:
            raise InvalidRequest("unknown status")
        try:
            await outbound.reply(desk, ticket_id, author_id=agent["id"], text=text, status=status,
                                 seen_up_to=int(seen) if seen.isdigit() and len(seen) < 19 else None,
                                 attachments=files)
        except ReplyCollision as exc:
            return await _collision(request, ticket_id, exc)
    if not is_htmx(request):
        return Redirect(path=f"/inbox/t/{ticket_id}")
    ticket = await _ticket(ticket_id)
    rows = await timeline(ticket["customer"], seen=await viewer(request, agent))
    # the timeline, plus out-of-band: the header's status and the collision guard's new mark
    return await page(request, "ticket/_after_reply.html", ticket=ticket, timeline=rows,
                      last_seen=last_seen(rows, ticket_id), queue=form_value(form, "queue") or "open")


async def _collision(request: Request, ticket_id: int, exc: ReplyCollision) -> Template | Redirect:
    """Someone answered meanwhile: show their replies in the reply box (409), keep the draft, and
    move the guard's mark past them so that the next Send goes out."""
    if not is_htmx(request):
        return Redirect(path=f"/inbox/t/{ticket_id}")
    rows = await Message.select(Message.id, Message.author, Message.text, Message.created_at).where(
        Message.id.is_in(exc.newer)).order_by(Message.id)
    names = {r["id"]: r["name"] for r in await Agent.select(Agent.id, Agent.name).where(
        Agent.id.is_in([r["author"] for r in rows if r["author"]] or [0]))}
    for row in rows:
        row["author_name"] = names.get(row["author"])
    response = await page(request, "ticket/_collision.html", status_code=409, newer=rows, last_seen=max(exc.newer),
                          oob=True)
    response.headers.update({"HX-Retarget": "#reply-collision", "HX-Reswap": "innerHTML"})
    return response


@post("/inbox/t/{ticket_id:int}/draft-check", include_in_schema=False, guards=[page_guard("agent")])
async def draft_check(request: Request, ticket_id: int) -> Template:
    """The reply box's "Check draft": what the check_draft hooks object to, before sending."""
    from web import i18n

    form = await request.form()
    problems = await outbound.check_draft(request.app.state.desk, ticket_id, form_value(form, "text"),
                                          i18n.current_language.get())
    return await page(request, "ticket/_draft_problems.html", problems=problems)


@post("/inbox/t/{ticket_id:int}/update", include_in_schema=False, guards=[page_guard("agent")])
async def update(request: Request, ticket_id: int) -> Template | Redirect:
    agent = await session_agent(request)
    form = await request.form()
    kwargs: dict[str, Any] = {}
    for key in ("status", "priority"):
        if form_value(form, key):
            kwargs[key] = form_value(form, key)
    for key in ("assignee", "team"):
        if key in form:
            value = form_value(form, key)
            if value == "me":
                value = str(agent["id"])
            kwargs[key] = chosen_id(value)
    if form_value(form, "add_tag"):
        kwargs["add_tags"] = [t for t in form_value(form, "add_tag").replace("，", ",").split(",") if t.strip()]
    if form_value(form, "remove_tag"):
        kwargs["remove_tags"] = [form_value(form, "remove_tag")]
    await update_ticket(request.app.state.desk, ticket_id, actor=f"agent:{agent['id']}", **kwargs)
    return await _back(request, ticket_id, "ticket/_properties.html")


@get("/inbox/attachments/{attachment_id:int}", include_in_schema=False, guards=[page_guard("readonly")])
async def attachment(request: Request, attachment_id: int) -> File:
    row = await Attachment.select().where(Attachment.id == attachment_id).first()
    if row is None:
        raise not_found(N_("attachment {attachment_id} does not exist"), attachment_id=attachment_id)
    root = Path(request.app.state.desk.data_dir).resolve()
    path = (root / row["storage_path"]).resolve()
    if root not in path.parents or not path.is_file():
        raise NotFound("the attachment's file is missing")
    # always a download: a stored HTML or SVG file must never render in our origin
    return File(path=path, filename=row["filename"], media_type="application/octet-stream",
                content_disposition_type="attachment", headers={"x-content-type-options": "nosniff"})


@post("/inbox/customers/{customer_id:int}", include_in_schema=False, guards=[page_guard("agent")])
async def customer_update(request: Request, customer_id: int) -> Redirect:
    from core import audit, clock

    agent = await session_agent(request)
    form = await request.form()
    tags = sorted({t.strip().lower()[:40] for t in form_value(form, "tags").replace("，", ",").split(",") if t.strip()})
    notes = form_value(form, "notes")[:10_000]
    rows = await Customer.update({Customer.tags: tags, Customer.notes: notes, Customer.updated_at: clock.now()}).where(
        Customer.id == customer_id).returning(Customer.id)
    if not rows:
        raise not_found(N_("customer {customer_id} does not exist"), customer_id=customer_id)
    await audit.record(f"agent:{agent['id']}", "update", "customer", customer_id, {"tags": tags})
    return Redirect(path=form_value(form, "back") if form_value(form, "back").startswith("/inbox") else "/inbox")


@post("/inbox/customers/{customer_id:int}/merge", include_in_schema=False, guards=[page_guard("agent")])
async def customer_merge(request: Request, customer_id: int) -> Redirect:
    """Merge another customer (a duplicate) into this one."""
    agent = await session_agent(request)
    form = await request.form()
    source = form_value(form, "source")
    source_id = parse_id(source)
    if source_id is None:
        raise InvalidRequest("choose the customer to merge")
    await merge_customers(source_id, customer_id, actor=f"agent:{agent['id']}")
    back = form_value(form, "back")
    return Redirect(path=back if back.startswith("/inbox") else "/inbox")


@get("/inbox/t/{ticket_id:int}/macros", include_in_schema=False, guards=[page_guard("agent")])
async def macro_search(request: Request, ticket_id: int, q: str = "") -> Template:
    ticket = await _ticket(ticket_id)
    found = await core_macros.find(q, channel_type=ticket["channel_type"], language=ticket["language"])
    return await page(request, "ticket/_macros.html", ticket=ticket, macros=found)


@get("/inbox/t/{ticket_id:int}/macros/{macro_id:int}", include_in_schema=False, guards=[page_guard("agent")])
async def macro_preview(request: Request, ticket_id: int, macro_id: int) -> Template:
    agent = await session_agent(request)
    text = await core_macros.render_for_ticket(request.app.state.desk, macro_id, ticket_id, agent)
    return await page(request, "ticket/_preview.html", ticket_id=ticket_id, text=text)


# `reply` is not among ROUTES: web.inbox.setup mounts it with its own body limit (files).
ROUTES = [ticket_page, neighbour, timeline_fragment, properties_fragment, head_fragment, draft_check, update, attachment, customer_update,
          customer_merge, macro_search, macro_preview]
