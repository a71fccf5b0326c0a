"""Bulk work from a queue: set status, priority, team or assignee, add or remove a tag, or send a
reply template to every selected ticket (core.bulk). The result page says what happened per ticket
and, for changes that only set fields, offers Undo for core.bulk.UNDO_SECONDS (the tickets' former
values travel in a token signed with the desk secret, so nobody can forge an "undo")."""

from __future__ import annotations

from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from litestar import Request, post
from litestar.response import Template

from core import bulk
from core.bounds import parse_id
from core.errors import InvalidRequest
from core.tables import PRIORITIES, TICKET_STATUSES, Macro, Team
from web.inbox.common import chosen_id, form_list, form_value, page
from web.sessions import page_guard, session_agent

_SALT = "relaydesk-bulk-undo"


async def bulk_choices() -> dict[str, Any]:
    """What the queue's bulk bar offers besides agents: teams and reply templates."""
    return {"bulk_teams": await Team.select(Team.id, Team.name).order_by(Team.name),
            # one entry per shortcut: core.bulk picks each ticket's best version of it
            "bulk_macros": list({m["shortcut"]: m for m in await Macro.select(Macro.id, Macro.name, Macro.shortcut)
                                 .order_by(Macro.shortcut, Macro.id, ascending=False)}.values()),
            "bulk_statuses": [s for s in TICKET_STATUSES if s != "spam"], "bulk_priorities": PRIORITIES}


def _signer(request: Request) -> URLSafeTimedSerializer | None:
    secret = request.app.state.desk.settings.secret
    return URLSafeTimedSerializer(secret, salt=_SALT) if secret else None


def _value(action: str, form: Any, me: dict[str, Any]) -> Any:
    if action == "assign":
        return chosen_id(form_value(form, "agent")) or me["id"]
    if action == "team":
        return chosen_id(form_value(form, "team"))
    if action in ("tag_add", "tag_remove"):
        return form_value(form, "tagvalue")[:50]
    if action == "reply":
        return form_value(form, "macro")
    if action == "status":
        return form_value(form, "status")
    if action == "priority":
        return form_value(form, "priority")
    return None


@post("/inbox/bulk", include_in_schema=False, guards=[page_guard("agent")])
async def bulk_apply(request: Request) -> Template:
    me = await session_agent(request)
    assert me is not None
    form = await request.form()
    ids = [i for i in map(parse_id, form_list(form, "ids")) if i is not None]
    action = form_value(form, "action")
    back = form_value(form, "back")
    back = back if back.startswith("/inbox") and not back.startswith("//") else "/inbox/q/open"
    if not ids:
        raise InvalidRequest("choose at least one ticket")
    result = await bulk.apply(request.app.state.desk, ids, action, _value(action, form, me),
                              actor=f"agent:{me['id']}", agent=me)
    signer = _signer(request)
    token = signer.dumps({"a": action, "b": {str(k): v for k, v in result.before.items()}, "v": result.after,
                          "u": me["id"]}) if result.undoable and signer else None
    return await page(request, "inbox/bulk_result.html", result=result, back=back, undo_token=token,
                      undo_seconds=bulk.UNDO_SECONDS)


@post("/inbox/bulk/undo", include_in_schema=False, guards=[page_guard("agent")])
async def bulk_undo(request: Request) -> Template:
    me = await session_agent(request)
    assert me is not None
    form = await request.form()
    back = form_value(form, "back")
    back = back if back.startswith("/inbox") and not back.startswith("//") else "/inbox/q/open"
    signer = _signer(request)
    try:
        data = signer.loads(form_value(form, "token"), max_age=bulk.UNDO_SECONDS) if signer else None
    except BadSignature:  # includes SignatureExpired
        data = None
    if not isinstance(data, dict) or data.get("u") != me["id"]:
        return await page(request, "inbox/bulk_result.html", status_code=410, result=None, back=back,
                          undo_expired=True)
    restored = await bulk.undo(request.app.state.desk, data["a"], data["b"], data["v"], actor=f"agent:{me['id']}")
    return await page(request, "inbox/bulk_result.html", result=None, back=back, restored=restored)


ROUTES = [bulk_apply, bulk_undo]
