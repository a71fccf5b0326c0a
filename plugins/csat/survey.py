"""Sending a survey after a solve, and recording the customer's answer."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from core.plugin_api import clock, db, outbound
from core.plugin_api import RelaydeskError
from core.plugin_api import Event, publish
from core.plugin_api import Ticket
from plugins.csat import state, tokens
from plugins.csat.catalog import page_language, strings
from plugins.csat.tables import CsatSurvey

if TYPE_CHECKING:
    from core.plugin_api import Desk

log = logging.getLogger("relaydesk.csat")
JOB_NAME = "csat.send"
MAX_COMMENT = 4000
LOW_RATING_EVENT = "csat.low_rating"


def round_key(solved_at: datetime | None) -> str:
    return (solved_at or clock.now()).isoformat()


async def send_survey(desk: "Desk", ticket_id: int, round: str) -> str:
    """Send one survey invitation for the solve `round`. Returns "sent" or "skipped:<why>"."""
    settings = state.settings(desk)
    ticket = await Ticket.select().where(Ticket.id == ticket_id).first()
    if ticket is None:
        return "skipped:no_ticket"
    if ticket["status"] not in ("solved", "closed"):
        return "skipped:reopened"
    last = ticket["last_customer_message_at"]
    if last is not None and last > datetime.fromisoformat(round):
        return "skipped:customer_wrote_again"
    enabled, _ = settings.channel_enabled(ticket["channel_type"])
    if not enabled:
        return "skipped:channel_off"
    now = clock.now()
    if settings.cooldown_days:
        recent = await CsatSurvey.select(CsatSurvey.id).where(
            (CsatSurvey.customer == ticket["customer"])
            & (CsatSurvey.created_at > now - timedelta(days=settings.cooldown_days))).first()
        if recent is not None:
            return "skipped:cooldown"
    secret = desk.settings.secret
    if not secret:
        log.warning("csat: [relaydesk] secret is not set, so survey links cannot be signed; none sent")
        return "skipped:no_secret"
    expires = now + timedelta(days=settings.link_valid_days)
    nonce = tokens.new_nonce()
    language = page_language(ticket["language"])
    rows = await db.fetch(
        "INSERT INTO csat_surveys (ticket, customer, agent, team, channel_type, kind, language, nonce, round, "
        "expires_at, created_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}) "
        "ON CONFLICT (ticket, round) DO NOTHING RETURNING id",
        ticket_id, ticket["customer"], ticket["assignee"], ticket["team"], ticket["channel_type"], settings.survey,
        language, nonce, round, expires, now)
    if not rows:
        return "skipped:already_sent"
    token = tokens.make(secret, ticket_id, int(expires.timestamp()), nonce)
    url = f"{desk.settings.public_url.rstrip('/')}/csat/{token}"
    text = strings(language)["invite"].format(url=url)
    try:
        message = await outbound.reply(desk, ticket_id, author_id=None, text=text, metadata={
            "csat": {"url": url, "kind": settings.survey, "scale": list(settings.scale())}})
    except RelaydeskError as exc:
        await CsatSurvey.delete().where(CsatSurvey.id == rows[0]["id"])
        log.warning("csat: survey for ticket %s not sent: %s", ticket_id, exc.message)
        return "skipped:cannot_reply"
    await CsatSurvey.update({CsatSurvey.message_id: message["id"]}).where(CsatSurvey.id == rows[0]["id"])
    return "sent"


async def send_survey_job(ctx: dict[str, Any], ticket_id: int, round: str) -> str:
    return await send_survey(ctx["desk"], ticket_id, round)


@dataclass
class Lookup:
    survey: dict[str, Any] | None
    status: int  # 200 usable, else the status to answer
    reason: str  # catalog key of the page to show


async def lookup(desk: "Desk", token: str) -> Lookup:
    """The survey a token opens, or why it cannot be used (400 malformed, 403 forged, 410 expired
    or already answered)."""
    try:
        parsed = tokens.read(desk.settings.secret, token, clock.now().timestamp())
    except tokens.TokenError as exc:
        key = {400: "error_400", 403: "error_403", 410: "error_410_expired"}[exc.status]
        return Lookup(None, exc.status, key)
    survey = await CsatSurvey.select().where(CsatSurvey.nonce == parsed.nonce).first()
    if survey is None or survey["ticket"] != parsed.ticket_id:
        return Lookup(None, 403, "error_403")
    if survey["answered_at"] is not None:
        return Lookup(survey, 410, "error_410_used")
    return Lookup(survey, 200, "")


async def answer(desk: "Desk", survey: dict[str, Any], score: int, comment: str | None) -> bool:
    """Store the rating once; False when another request answered first. A low rating publishes
    the csat.low_rating event (rules can reopen the ticket or notify a lead)."""
    now = clock.now()
    rows = await CsatSurvey.update({CsatSurvey.score: score, CsatSurvey.comment: comment or None,
                                    CsatSurvey.answered_at: now}).where(
        (CsatSurvey.id == survey["id"]) & CsatSurvey.answered_at.is_null()).returning(CsatSurvey.id)
    if not rows:
        return False
    settings = state.settings(desk)
    low = score <= (settings.low_csat if survey["kind"] == "csat" else settings.low_nps)
    if low:
        await publish(desk, [Event(LOW_RATING_EVENT, survey["ticket"], survey["message_id"],
                                   actor=f"customer:{survey['customer']}",
                                   data={"survey": survey["id"], "kind": survey["kind"], "score": score,
                                         "comment": comment or None, "agent": survey["agent"],
                                         "team": survey["team"], "channel_type": survey["channel_type"]})])
    return True
