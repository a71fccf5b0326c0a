"""In-app notifications: a row per recipient agent, shown in the inbox header until read.

Recipients are named by a target: ``{"agent": id}``, ``{"team": id}`` (every active member),
``{"role": "admin"}`` (supervisors: every active admin) or ``"assignee"`` resolved by the caller.
"""

from __future__ import annotations

from typing import Any

from core import clock, db
from core.errors import N_, Invalid

TARGET_KEYS = ("agent", "team", "role")
MAX_TEXT = 2000
LIVE_EVENT = "notification"  # on the desk's live bus: {"data": {"agents": [ids]}}
# The texts of system notifications, by kind: English with {named} params, marked for the catalogs
# so the inbox shows them in the reader's language. A rule's notify text is the admin's own words.
TEMPLATES = {
    "pool_alert": N_("Ticket #{ticket} ({subject}) has waited {minutes} min in the claim pool of team {team}"),
    "understaffed": N_("{day} looks understaffed: in {hours} hours fewer agents are on shift than the forecast "
                       "needs (up to {short} short). See Reports, Planning."),
}


def validate_target(target: Any, where: str = "to") -> None:
    """Raise ValueError saying what is wrong with a notification target."""
    if target in ("assignee", "supervisors", "team"):
        return
    if isinstance(target, str) and target.split(":", 1)[0] in ("agent", "team") and target.split(":", 1)[-1].isdigit():
        return
    raise Invalid(N_("{where}: must be \"assignee\", \"team\" (the ticket's team), \"supervisors\" (admins), "
                     "\"agent:<id>\" or \"team:<id>\", not {target}"), where=where, target=repr(target))


def resolve_target(target: str, ticket: dict[str, Any] | None) -> dict[str, Any] | None:
    """A rule's `to` as a recipient spec for `notify`, given the ticket; None when nobody fits
    (no assignee, no team)."""
    if target == "assignee":
        return {"agent": ticket["assignee"]} if ticket and ticket.get("assignee") else None
    if target == "team":
        return {"team": ticket["team"]} if ticket and ticket.get("team") else None
    if target == "supervisors":
        return {"role": "admin"}
    kind, _, value = target.partition(":")
    return {kind: int(value)}


async def recipients(spec: dict[str, Any]) -> list[int]:
    from core.tables import Agent, AgentTeam

    if "agent" in spec:
        return [spec["agent"]] if await Agent.exists().where((Agent.id == spec["agent"]) & (Agent.active == True)) else []  # noqa: E712
    if "team" in spec:
        rows = await AgentTeam.select(AgentTeam.agent).where(AgentTeam.team == spec["team"])
        ids = sorted({r["agent"] for r in rows})
        if not ids:
            return []
        active = await Agent.select(Agent.id).where(Agent.id.is_in(ids) & (Agent.active == True))  # noqa: E712
        return sorted(r["id"] for r in active)
    if "role" in spec:
        rows = await Agent.select(Agent.id).where((Agent.role == spec["role"]) & (Agent.active == True))  # noqa: E712
        return sorted(r["id"] for r in rows)
    raise Invalid(N_("unknown notification target {spec}"), spec=repr(spec))


async def notify(spec: dict[str, Any], text: str, *, ticket_id: int | None = None, kind: str = "rule",
                 desk: Any = None, params: dict[str, Any] | None = None) -> int:
    """Store a notification for every recipient of `spec`. Returns how many were stored. With the
    desk, the recipients' open inbox pages are told at once (a live `notification` event).
    `params` fill TEMPLATES[kind] when the inbox shows it; `text` is what everything else reads."""
    from core.tables import Notification

    ids = await recipients(spec)
    now = clock.now()
    if ids:
        await Notification.insert(*[Notification(agent=i, ticket=ticket_id, kind=kind[:32], text=text[:MAX_TEXT],
                                                 params=params, created_at=now) for i in ids])
        if desk is not None:
            await desk.live.publish({"name": LIVE_EVENT, "ticket_id": None, "data": {"agents": ids}})
    return len(ids)


async def unread_count(agent_id: int, viewer: Any = None) -> int:
    """`viewer` (core.visibility.Viewer): leave out notifications about tickets it may not see."""
    # every page shows it: a plain statement (core.db.fetch), not piccolo's builder
    if viewer is None or viewer.sees_all:
        rows = await db.fetch("SELECT COUNT(*) AS n FROM notifications WHERE agent = {} AND read_at IS NULL", agent_id)
    else:
        visible, args = viewer.sql("t")
        rows = await db.fetch("SELECT COUNT(*) AS n FROM notifications n LEFT JOIN tickets t ON t.id = n.ticket "
                              f"WHERE n.agent = {{}} AND n.read_at IS NULL AND (n.ticket IS NULL OR t.id IS NULL OR {visible})",
                              agent_id, *args)
    return int(rows[0]["n"])


async def latest(agent_id: int, limit: int = 50) -> list[dict[str, Any]]:
    from core.tables import Notification

    return await Notification.select().where(Notification.agent == agent_id).order_by(
        Notification.id, ascending=False).limit(limit)


async def mark_read(agent_id: int, notification_id: int | None = None) -> None:
    from core.tables import Notification

    where = (Notification.agent == agent_id) & Notification.read_at.is_null()
    if notification_id is not None:
        where = where & (Notification.id == notification_id)
    await Notification.update({Notification.read_at: clock.now()}).where(where)
