"""The plugin's table: one row per survey sent, holding its rating once answered (ticket, agent,
team and channel are copied at send time so reports read one indexed table)."""

from __future__ import annotations

from piccolo.columns import Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.plugin_api import register_tables


class CsatSurvey(Table, tablename="csat_surveys"):
    ticket = Integer(index=True)
    customer = Integer(index=True)
    agent = Integer(null=True, default=None, index=True)
    team = Integer(null=True, default=None)
    channel_type = Varchar(length=64)
    kind = Varchar(length=8)  # csat | nps
    language = Varchar(length=16, default="en")
    nonce = Varchar(length=32, unique=True)
    # Which solve this survey follows (the ticket's solved_at when the job was queued): a job that
    # runs twice, or a slow job after a re-solve, finds its round taken (unique with ticket).
    round = Varchar(length=40)
    expires_at = Timestamptz()
    message_id = Integer(null=True, default=None)
    score = Integer(null=True, default=None)
    comment = Text(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    answered_at = Timestamptz(null=True, default=None, index=True)


CSAT_TABLES = (CsatSurvey,)


register_tables(CSAT_TABLES)  # bound to the desk's database on every connect
