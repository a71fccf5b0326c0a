"""Routing, SLA and automation policies: team routing settings, business-hours calendars, SLA
policies, SLA pauses and automation rules.

Tables are frozen copies here so later edits to core/tables.py do not change what this migration
creates. All SQL is portable between SQLite and PostgreSQL.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns import JSON, Boolean, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

ID = "2026-11-23T18:45:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "routing, SLA and automation policies"


class TeamRouting(Table, tablename="team_routing"):
    team = Integer(unique=True)
    strategy = Varchar(length=32, default="round_robin")
    position = Integer(default=0)
    channels = JSON(default=[])
    language_match = Boolean(default=True)
    sticky = Boolean(default=False)
    vip_tags = JSON(default=[])
    keywords = JSON(default=[])
    overflow_team = Integer(null=True, default=None)
    overflow_threshold = Integer(null=True, default=None)


class BusinessCalendar(Table, tablename="business_calendars"):
    name = Varchar(length=100, unique=True)
    timezone = Varchar(length=64, default="UTC")
    hours = JSON(default={})
    holidays = JSON(default=[])


class SlaPolicy(Table, tablename="sla_policies"):
    name = Varchar(length=100)
    position = Integer(default=0)
    active = Boolean(default=True)
    conditions = JSON(default={})
    first_response_minutes = Integer(null=True, default=None)
    next_response_minutes = Integer(null=True, default=None)
    resolution_minutes = Integer(null=True, default=None)
    calendar = Integer(null=True, default=None)
    starts_at = Timestamptz(null=True, default=None)
    ends_at = Timestamptz(null=True, default=None)
    notice = Text(null=True, default=None)


class AgentShift(Table, tablename="agent_shifts"):
    agent = Integer(unique=True)
    hours = JSON(default={})
    holidays = JSON(default=[])


class SlaPause(Table, tablename="sla_pauses"):
    ticket = Integer(unique=True)
    paused_at = Timestamptz(default=TimestamptzNow())


class AutomationRule(Table, tablename="automation_rules"):
    name = Varchar(length=100)
    position = Integer(default=0)
    active = Boolean(default=True)
    event = Varchar(length=64)
    conditions = JSON(default={})
    actions = JSON(default=[])


class RuleFiring(Table, tablename="rule_firings"):
    rule = Integer()
    ticket = Integer()
    anchor = Timestamptz()


STATEMENTS = (
    # open tickets per agent (least-loaded routing) and the sweeper's due index already exist (0002);
    # rules are looked up by the event that triggers them
    "CREATE INDEX IF NOT EXISTS automation_rules_event ON automation_rules (event, position)",
    # sticky routing: the last ticket of a customer that had an assignee
    "CREATE INDEX IF NOT EXISTS tickets_customer_id ON tickets (customer, id)",
    # a time-triggered rule fires once per ticket and waiting period
    "CREATE UNIQUE INDEX IF NOT EXISTS rule_firings_rule_ticket_anchor ON rule_firings (rule, ticket, anchor)",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)

    async def create():
        from core.db import engine

        for table in (TeamRouting, BusinessCalendar, SlaPolicy, SlaPause, AutomationRule, RuleFiring, AgentShift):
            table._meta.db = engine()
            await table.create_table(if_not_exists=True).run()
        for statement in STATEMENTS:
            await engine().run_ddl(statement)

    manager.add_raw(create)
    return manager
