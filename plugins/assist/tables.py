"""The plugin's table: every answer assist prepared (sent or left as a draft), one per inbound
message, so an event seen twice answers once and reports can count automatic answers.
Created by plugins/assist/migrations/."""

from __future__ import annotations

from piccolo.columns import JSON, Integer, Real, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.plugin_api import register_tables


class AssistAnswer(Table, tablename="assist_answers"):
    """What assist did for one inbound message."""

    message = Integer(unique=True)  # the inbound message answered (unique: one answer per message)
    ticket = Integer(index=True)
    kind = Varchar(length=32, default="wismo")
    mode = Varchar(length=16)  # sent / draft / skipped
    reason = Varchar(length=64, default="")  # why a draft or a skip: "mode", "angry", "draft_rejected", ...
    language = Varchar(length=16, default="en")
    confidence = Real(default=0.0)
    text = Text(default="")
    facts = JSON(default={})  # the order and shipments the text was built from
    reply = Integer(null=True, default=None)  # the outbound message, when sent
    created_at = Timestamptz(default=TimestamptzNow())


ASSIST_TABLES = (AssistAnswer,)


register_tables(ASSIST_TABLES)  # bound to the desk's database on every connect
