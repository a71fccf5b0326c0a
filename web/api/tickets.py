"""/api/v1/tickets: list with filters and cursor pagination, read, update, reply, note."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Annotated, Any, Optional

import msgspec
from litestar import Controller, Request, Router, get, patch, post
from litestar.params import Parameter

from core import clock, outbound, reply_files, reply_templates, saved_views, search, ticket_filter, ticket_lists
from core.bounds import MAX_ID, Id
from core.errors import InvalidRequest, NotFound
from core.tables import TICKET_STATUSES, Attachment, Message, Ticket
from core.tickets import tags_of, update_ticket
from core.types import InboundAttachment
from web.api import pagination
from web.api.params import OptionalId, text
from web.api.openapi import errors, with_body
from web.auth import ROLE_RANK, actor, current_agent, require
from web.visibility import viewer

SORTS = ("-id", "due", "-updated", "newest", "oldest", "updated")
MAX_API_FILES = 20  # a bound on the list before any channel's own (smaller) count applies


Tag = Annotated[str, msgspec.Meta(max_length=64)]


class TicketUpdate(msgspec.Struct, forbid_unknown_fields=True):
    status: str | None = None
    priority: str | None = None
    assignee: Id | None | msgspec.UnsetType = msgspec.UNSET
    team: Id | None | msgspec.UnsetType = msgspec.UNSET
    add_tags: Annotated[list[Tag], msgspec.Meta(max_length=50)] = []
    remove_tags: Annotated[list[Tag], msgspec.Meta(max_length=50)] = []


TemplateValue = Annotated[str, msgspec.Meta(max_length=reply_templates.MAX_VALUE)]
TemplateParam = Annotated[str, msgspec.Meta(max_length=64)]


class TemplateIn(msgspec.Struct, forbid_unknown_fields=True):
    """An approved template (one of GET /tickets/{id}/templates) and its variables' values: a mapping
    {variable: value}, or a list for positional {{1}}, {{2}}..."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=512)]
    language: Annotated[str, msgspec.Meta(min_length=1, max_length=20)]
    params: (Annotated[dict[TemplateParam, TemplateValue], msgspec.Meta(max_length=reply_templates.MAX_PARAMS)]
             | Annotated[list[TemplateValue], msgspec.Meta(max_length=reply_templates.MAX_PARAMS)]) = {}


class TemplateOut(msgspec.Struct):
    name: str
    language: str
    params: list[str]
    text: str = ""
    category: str = ""
    header: str = ""
    footer: str = ""
    examples: dict[str, str] = {}


class TemplatesOut(msgspec.Struct):
    """What a reply may be now: `blocked_reason` says why free-form text cannot go out (a closed
    messaging window) and `templates` what may (the customer's language first); `templates_error`
    says why the list may be incomplete."""

    templates: list[TemplateOut]
    blocked_reason: str | None = None
    window_closes_at: datetime | None = None
    templates_error: str | None = None


class FileIn(msgspec.Struct, forbid_unknown_fields=True):
    """A file to send with a reply."""

    filename: Annotated[str, msgspec.Meta(min_length=1, max_length=255, description="the name the customer sees")]
    data: Annotated[str, msgspec.Meta(description="the file's bytes in base64 (RFC 4648, standard alphabet)")]
    content_type: Annotated[str, msgspec.Meta(max_length=127, description=(
        "its MIME type, e.g. image/png; empty or omitted: guessed from the file name"))] = ""


class ReplyIn(msgspec.Struct, forbid_unknown_fields=True):
    # The reply's text; leave it out when sending a `template` (the filled template becomes the text).
    text: str = ""
    html: str | None = None
    status: str | None = None
    # The newest message id the sender has read; when someone else replied after it, nothing is
    # sent and the answer is 409 reply_collision with newer_message_ids. Omit it to send regardless.
    last_seen_message_id: int | None = None
    # Send an approved message template instead of text (outside a closed messaging window).
    template: TemplateIn | None = None
    # Files for the customer, within the channel's limits (GET .../reply-limits): 400 when the
    # channel sends no files or for too many, 413 too large, 415 a type it does not send.
    attachments: Annotated[list[FileIn], msgspec.Meta(max_length=MAX_API_FILES)] = []


class NoteIn(msgspec.Struct, forbid_unknown_fields=True):
    text: str
    html: str | None = None


class DraftIn(msgspec.Struct, forbid_unknown_fields=True):
    text: str


def _ticket_out(row: dict[str, Any], tags: list[str]) -> dict[str, Any]:
    out = dict(row)
    out["tags"] = tags
    return out


def _message_out(row: dict[str, Any], attachments: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    out = dict(row)
    if isinstance(out.get("metadata"), str):
        out["metadata"] = msgspec.json.decode(out["metadata"] or "{}")
    out["attachments"] = attachments or []
    return out


class TicketController(Controller):
    path = "/api/v1/tickets"
    tags = ["tickets"]

    @get("/", guards=[require("readonly")], responses=errors(404))
    async def list_tickets(
        self,
        request: Request,
        q: str | None = Parameter(default=None, max_length=search.MAX_QUERY, description=(
            "search text (subjects, messages, customers' names, e-mails, phone numbers, order numbers; "
            "Chinese too): every word must match. Results are ordered by last activity, newest first, "
            "and narrowed by every other filter; `sort` does not apply")),
        view: Annotated[Optional[int], Parameter(ge=1, le=MAX_ID, description=(
            "a saved view's id (GET /api/v1/views): its filters, with any filter given here replacing "
            "the view's for that field"))] = None,
        status: str | None = Parameter(default=None, max_length=16,
                                       description="a status, or 'open' for every unsolved status"),
        assignee: str | None = Parameter(default=None, max_length=12,
                                         description="an agent's id, 'me' (the token's agent) or 'none'"),
        unassigned: bool = Parameter(default=False, description="the same as assignee=none"),
        team: str | None = Parameter(default=None, max_length=12, description="a team's id or 'none'"),
        tag: str | None = text(64),
        channel: str | None = text(64),
        account: Annotated[Optional[int], Parameter(ge=1, le=MAX_ID,
                                                    description="a channel account's (store's) id")] = None,
        customer: OptionalId = None,
        priority: str | None = Parameter(default=None, max_length=16, description="urgent, high, normal or low"),
        sla: str | None = Parameter(default=None, max_length=16, description=(
            "breached (open, due time passed), due_soon (due within the hour), ok (due later), none (no due time)")),
        language: str | None = text(16, "the ticket's language code, e.g. zh or en"),
        created_from: str | None = text(40, "created on or after: a date (YYYY-MM-DD, the agent's time zone) "
                                            "or an ISO 8601 time with an offset"),
        created_to: str | None = text(40, "created up to: a date (that whole day) or an ISO 8601 time"),
        updated_from: str | None = text(40, "updated on or after (as created_from)"),
        updated_to: str | None = text(40, "updated up to (as created_to)"),
        sort: str | None = Parameter(default=None, max_length=16, description=(
            "-id (newest id first, the default), due (SLA due first), newest / oldest (by creation), "
            "updated or -updated (last updated first)")),
        limit: int = Parameter(default=50, ge=1, le=200),
        cursor: str | None = text(pagination.MAX_CURSOR, "next_cursor of the previous page (same filters)"),
    ) -> dict[str, Any]:
        """Tickets matching every filter given, a page at a time (keyset cursors: `next_cursor` is
        null on the last page); with `q`, a search through them."""
        agent = await current_agent(request)
        limit = pagination.clamp_limit(limit)
        if sort is not None and sort not in SORTS:
            raise InvalidRequest(f"sort must be one of {', '.join(SORTS)}")
        if q and sort is not None:
            raise InvalidRequest("a search is ordered by last activity: leave sort out")
        if unassigned:
            if assignee not in (None, "none"):
                raise InvalidRequest("give either unassigned or assignee")
            assignee = "none"
        given = {"status": status, "assignee": assignee, "team": team, "tag": tag, "channel": channel,
                 "account": account, "customer": customer, "priority": priority, "sla": sla, "language": language,
                 "created_from": created_from, "created_to": created_to, "updated_from": updated_from,
                 "updated_to": updated_to}
        base: dict[str, Any] = {}
        if view is not None:
            base = dict((await saved_views.get(agent, view))["filters"] or {})
            base.pop("sort", None)
        flt = ticket_filter.parse({**base, **{k: v for k, v in given.items() if v is not None}}, allow_customer=True)
        now = clock.now()
        position = pagination.decode(cursor)
        # team visibility (core.visibility): the token's agent sees what they would see in the inbox
        seen = await viewer(request, agent)
        if q and q.strip():
            order = ticket_lists.SEARCH
            keys = await ticket_lists.search_page(q, ticket_filter.where(flt, agent, now, seen=seen), position,
                                                  limit + 1)
        else:
            order = {None: "-id", "-updated": "updated"}.get(sort, sort)
            keys = await ticket_lists.page(ticket_filter.where(flt, agent, now, seen=seen), order, position, limit + 1)
        more = len(keys) > limit
        keys = keys[:limit]
        found = {}
        if keys:
            found = {r["id"]: r for r in await Ticket.select().where(Ticket.id.is_in([k["id"] for k in keys]))}
        rows = [found[k["id"]] for k in keys if k["id"] in found]
        next_cursor = pagination.encode(ticket_lists.next_cursor(keys[-1], order)) if more else None
        tags = await tags_of([r["id"] for r in rows])
        return {"items": [_ticket_out(r, tags[r["id"]]) for r in rows], "next_cursor": next_cursor}

    @get("/{ticket_id:int}", guards=[require("readonly")], responses=errors(404))
    async def get_ticket(self, ticket_id: int) -> dict[str, Any]:
        row = await Ticket.select().where(Ticket.id == ticket_id).first()
        if row is None:
            raise NotFound(f"ticket {ticket_id} does not exist")
        return _ticket_out(row, (await tags_of([ticket_id]))[ticket_id])

    @patch("/{ticket_id:int}", guards=[require("agent")], responses=with_body(404))
    async def update(self, request: Request, ticket_id: int, data: TicketUpdate) -> dict[str, Any]:
        agent = await current_agent(request)
        kwargs: dict[str, Any] = {"status": data.status, "priority": data.priority,
                                  "add_tags": data.add_tags, "remove_tags": data.remove_tags}
        if data.assignee is not msgspec.UNSET:
            kwargs["assignee"] = data.assignee
        if data.team is not msgspec.UNSET:
            kwargs["team"] = data.team
        row = await update_ticket(request.app.state.desk, ticket_id, actor=actor(agent), **kwargs)
        return _ticket_out(row, (await tags_of([ticket_id]))[ticket_id])

    @get("/{ticket_id:int}/messages", guards=[require("readonly")], responses=errors(404))
    async def messages(self, ticket_id: int, limit: int = Parameter(default=100, ge=1, le=200),
                       cursor: str | None = text(pagination.MAX_CURSOR)) -> dict[str, Any]:
        limit = pagination.clamp_limit(limit)
        if not await Ticket.exists().where(Ticket.id == ticket_id):
            raise NotFound(f"ticket {ticket_id} does not exist")
        after = (pagination.decode(cursor) or {"i": 0})["i"]
        rows = await Message.select().where((Message.ticket == ticket_id) & (Message.id > after)).order_by(
            Message.id).limit(limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        files = await _attachments([r["id"] for r in rows])
        return {"items": [_message_out(r, files.get(r["id"])) for r in rows],
                "next_cursor": pagination.encode({"i": rows[-1]["id"]}) if more else None}

    @get("/{ticket_id:int}/reply-limits", guards=[require("readonly")], responses=errors(404))
    async def reply_limits(self, request: Request, ticket_id: int) -> dict[str, Any]:
        """What a reply on this ticket may carry now: the channel's limits and the files rules
        (`files`: max_count, 0 when the channel sends no files; max_bytes per file; total_bytes; types,
        MIME type or family -> its own cap, empty when any type goes)."""
        from core.context import reply_constraints

        desk = request.app.state.desk
        ticket = await Ticket.select().where(Ticket.id == ticket_id).first()
        if ticket is None:
            raise NotFound(f"ticket {ticket_id} does not exist")
        limits = await reply_constraints(desk, ticket)
        out = {k: v for k, v in limits.items() if k != "templates"}
        out["files"] = reply_files.rules(limits, desk.settings.max_reply_files_bytes).as_dict()
        return out

    @get("/{ticket_id:int}/templates", guards=[require("agent")], responses=errors(404))
    async def templates(self, request: Request, ticket_id: int,
                        refresh: bool = Parameter(default=False, description="fetch the channel's templates again "
                                                  "instead of using its cache")) -> TemplatesOut:
        """The message templates a reply may send now (a WhatsApp ticket whose 24-hour window has
        closed: the account's approved templates), the customer's language first."""
        desk = request.app.state.desk
        ticket = await Ticket.select().where(Ticket.id == ticket_id).first()
        if ticket is None:
            raise NotFound(f"ticket {ticket_id} does not exist")
        if refresh:
            await reply_templates.refresh(desk, ticket)
        limits, offered = await reply_templates.offered(desk, ticket)
        described = []
        for item in offered:
            try:
                described.append(msgspec.convert(item, TemplateOut, strict=False))
            except msgspec.ValidationError:  # a plugin's malformed entry costs itself, not the answer
                continue
        return TemplatesOut(
            templates=described,
            blocked_reason=limits.get("blocked_reason"), window_closes_at=limits.get("window_closes_at"),
            templates_error=limits.get("templates_error"))

    @post("/{ticket_id:int}/draft-check", guards=[require("agent")], status_code=200,
          responses=with_body(404))
    async def draft_check(self, request: Request, ticket_id: int, data: DraftIn) -> dict[str, Any]:
        """What the check_draft hooks object to in a draft; a reply with problems is refused (422)."""
        agent = await current_agent(request)
        problems = await outbound.check_draft(request.app.state.desk, ticket_id, data.text,
                                              await outbound.agent_language(agent["id"]))
        return {"ok": not problems, "problems": [{"code": p.code, "message": p.message} for p in problems]}

    @post("/{ticket_id:int}/notes", guards=[require("agent")], status_code=201, responses=with_body(404))
    async def note(self, request: Request, ticket_id: int, data: NoteIn) -> dict[str, Any]:
        agent = await current_agent(request)
        row = await outbound.add_note(request.app.state.desk, ticket_id, author_id=agent["id"], text=data.text,
                                      html=data.html)
        return _message_out(row)

    @get("/pool", guards=[require("readonly")], responses=errors())
    async def pool(self, request: Request, team: OptionalId = None) -> list[dict[str, Any]]:
        """Tickets waiting in claim pools: the caller's teams (admins: every team), longest waiting first."""
        from core import routing
        from core.tables import AgentTeam

        agent = await current_agent(request)
        teams = None if ROLE_RANK[agent["role"]] >= ROLE_RANK["supervisor"] else [
            r["team"] for r in await AgentTeam.select(AgentTeam.team).where(AgentTeam.agent == agent["id"])]
        if team is not None:
            teams = [team] if teams is None or team in teams else []
        return await routing.pool_tickets(teams)

    @post("/{ticket_id:int}/claim", guards=[require("agent")], status_code=200, responses=errors(404, 409))
    async def claim(self, request: Request, ticket_id: int) -> dict[str, Any]:
        """Take a ticket from its team's claim pool (409 with the reason: already claimed, claim cap)."""
        from core import routing

        agent = await current_agent(request)
        row = await routing.claim(request.app.state.desk, ticket_id, agent["id"], 
                                 admin=ROLE_RANK[agent["role"]] >= ROLE_RANK["supervisor"])
        return _ticket_out(row, (await tags_of([ticket_id]))[ticket_id])


@post("/api/v1/tickets/{ticket_id:int}/reply", guards=[require("agent")], status_code=202, tags=["tickets"],
      responses=with_body(404, 409, 415, 422))
async def reply(request: Request, ticket_id: int, data: ReplyIn) -> dict[str, Any]:
    """Queue a reply, with files in `attachments` (base64), or an approved message `template`
    instead of text. With `last_seen_message_id`, a reply someone else sent after that message
    refuses this one: 409 `reply_collision` with `newer_message_ids`, and nothing is sent. Files
    beyond the channel's limits are refused (400, 413, 415) before anything is stored."""
    agent = await current_agent(request)
    if data.status is not None and data.status not in TICKET_STATUSES:
        raise InvalidRequest(f"status must be one of {', '.join(TICKET_STATUSES)}")
    desk = request.app.state.desk
    text, metadata = data.text, None
    if data.template is not None:
        if data.text.strip() or data.html:
            raise InvalidRequest("send either text or a template: the filled template is the reply's text")
        ticket = await Ticket.select().where(Ticket.id == ticket_id).first()
        if ticket is None:
            raise NotFound(f"ticket {ticket_id} does not exist")
        text, metadata = await reply_templates.compose(desk, ticket, data.template.name, data.template.language,
                                                       data.template.params)
    files = [InboundAttachment(filename=f.filename, content_type=f.content_type, data=_base64(f.data, i))
             for i, f in enumerate(data.attachments)]
    row = await outbound.reply(desk, ticket_id, author_id=agent["id"], text=text, html=data.html,
                               status=data.status, metadata=metadata, seen_up_to=data.last_seen_message_id,
                               attachments=files)
    return _message_out(row, (await _attachments([row["id"]])).get(row["id"]))


def _base64(value: str, index: int) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidRequest(f"attachments[{index}].data is not base64 (RFC 4648, standard alphabet)") from None


def reply_router(settings: Any) -> Router:
    """The reply route with a body limit that fits its files ([relaydesk] max_reply_files_bytes)."""
    return Router(path="/", route_handlers=[reply], request_max_body_size=reply_files.body_limit(settings))


async def _attachments(message_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    if not message_ids:
        return {}
    rows = await Attachment.select(Attachment.id, Attachment.message, Attachment.filename, Attachment.content_type,
                                   Attachment.size, Attachment.content_id, Attachment.inline).where(
        Attachment.message.is_in(message_ids))
    out: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        out.setdefault(row.pop("message"), []).append(row)
    return out
