"""One row per widget conversation: the visitor's secret is never stored, only its sha256."""

from __future__ import annotations

from piccolo.columns import Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.plugin_api import register_tables


class WebchatSession(Table, tablename="webchat_sessions"):
    key_hash = Varchar(length=64, unique=True)
    account = Integer(index=True)
    handle = Varchar(length=40, index=True)  # the customer's handle on the channel: wc-<hash prefix>
    customer = Integer(null=True, default=None, index=True)
    ticket = Integer(null=True, default=None)
    email = Text(default="")
    language = Varchar(length=16, default="en")
    sent = Integer(default=0)  # messages the visitor sent (their external ids count up)
    last_seen = Timestamptz(default=TimestamptzNow())
    created_at = Timestamptz(default=TimestamptzNow())


class WebchatStat(Table, tablename="webchat_stats"):
    """Daily counters per account: widgets opened (the frame loaded) and conversations started."""

    day = Varchar(length=10)
    account = Integer()
    kind = Varchar(length=16)  # opened | started
    count = Integer(default=0)


WEBCHAT_TABLES = (WebchatSession, WebchatStat)

register_tables(WEBCHAT_TABLES)
