"""Claim pool, skills routing, per-policy SLA warning lead, peak notices, in-app notifications and
the outgoing webhooks of automation rules.

Tables are frozen copies here so later edits to core/tables.py do not change what this migration
creates. All SQL is portable between SQLite and PostgreSQL.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns import JSON, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

ID = "2026-11-24T09:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "claim pool, skills, SLA warning lead, peak notices, notifications, rule webhooks"


class Notification(Table, tablename="notifications"):
    agent = Integer()
    ticket = Integer(null=True, default=None)
    kind = Varchar(length=32, default="rule")
    text = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    read_at = Timestamptz(null=True, default=None)


class WebhookDelivery(Table, tablename="webhook_deliveries"):
    rule = Integer()
    ticket = Integer(null=True, default=None)
    url = Varchar(length=2000)
    secret_env = Varchar(length=128, null=True, default=None)
    body = Text(default="")
    status = Varchar(length=16, default="pending")
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(default=TimestamptzNow())
    last_error = Text(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class PeakNotice(Table, tablename="peak_notices"):
    ticket = Integer(unique=True)
    policy = Integer()
    sent_at = Timestamptz(default=TimestamptzNow())


STATEMENTS = (
    "ALTER TABLE team_routing ADD COLUMN skills_match BOOLEAN NOT NULL DEFAULT TRUE",
    "ALTER TABLE team_routing ADD COLUMN pool_priorities JSON NOT NULL DEFAULT '[]'",
    "ALTER TABLE team_routing ADD COLUMN claim_cap INTEGER NULL",
    "ALTER TABLE team_routing ADD COLUMN pool_alert_minutes INTEGER NULL",
    "ALTER TABLE tickets ADD COLUMN pooled_at TIMESTAMPTZ NULL",
    "ALTER TABLE tickets ADD COLUMN pool_alert_due_at TIMESTAMPTZ NULL",
    "ALTER TABLE tickets ADD COLUMN claimed_at TIMESTAMPTZ NULL",
    "ALTER TABLE tickets ADD COLUMN sla_warning_minutes INTEGER NULL",
    "ALTER TABLE sla_policies ADD COLUMN warning_minutes INTEGER NULL",
    # the pool sweeper reads only tickets whose alert is due, by this index
    "CREATE INDEX IF NOT EXISTS tickets_pool_alert ON tickets (pool_alert_due_at)",
    # the claim pool of a team, oldest first
    "CREATE INDEX IF NOT EXISTS tickets_pooled ON tickets (pooled_at, id)",
    "CREATE INDEX IF NOT EXISTS notifications_agent_read ON notifications (agent, read_at, id)",
    "CREATE INDEX IF NOT EXISTS webhook_deliveries_status_next ON webhook_deliveries (status, next_attempt_at)",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)

    async def create():
        from core.db import engine

        for table in (Notification, WebhookDelivery, PeakNotice):
            table._meta.db = engine()
            await table.create_table(if_not_exists=True).run()
        for statement in STATEMENTS:
            await engine().run_ddl(statement)

    manager.add_raw(create)
    return manager
