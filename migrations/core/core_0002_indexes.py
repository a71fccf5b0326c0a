"""Composite and unique indexes piccolo's column options cannot express.

The SQL is the same on SQLite and PostgreSQL.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-23T17:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "indexes for ingest dedupe, threading, queues and the SLA sweeper"

INDEXES = (
    # ingest: idempotent on (account, external id); email threading looks references up here too
    "CREATE UNIQUE INDEX IF NOT EXISTS messages_account_external ON messages (account, external_id)",
    "CREATE INDEX IF NOT EXISTS messages_ticket_id ON messages (ticket, id)",
    # customer resolution
    "CREATE UNIQUE INDEX IF NOT EXISTS identities_channel_handle ON customer_identities (channel_type, handle)",
    "CREATE INDEX IF NOT EXISTS identities_customer ON customer_identities (customer)",
    # threading: the platform's conversation id, else the customer's open ticket on that account
    "CREATE INDEX IF NOT EXISTS tickets_account_thread ON tickets (account, thread_key)",
    "CREATE INDEX IF NOT EXISTS tickets_customer_status ON tickets (customer, status)",
    # queues: sorted by SLA due time within a status, per assignee and per team
    "CREATE INDEX IF NOT EXISTS tickets_status_due ON tickets (status, sla_due_at, id)",
    "CREATE INDEX IF NOT EXISTS tickets_assignee_status_due ON tickets (assignee, status, sla_due_at, id)",
    "CREATE INDEX IF NOT EXISTS tickets_team_status_due ON tickets (team, status, sla_due_at, id)",
    "CREATE INDEX IF NOT EXISTS tickets_updated ON tickets (updated_at, id)",
    # the SLA sweeper reads only tickets whose earliest due time has come
    "CREATE INDEX IF NOT EXISTS tickets_sla_due ON tickets (sla_due_at)",
    "CREATE UNIQUE INDEX IF NOT EXISTS ticket_tags_ticket_tag ON ticket_tags (ticket, tag)",
    "CREATE INDEX IF NOT EXISTS ticket_tags_tag ON ticket_tags (tag, ticket)",
    # the outbox sweeper: pending rows whose next attempt has come
    "CREATE INDEX IF NOT EXISTS outbox_status_next ON outbox (status, next_attempt_at)",
    "CREATE UNIQUE INDEX IF NOT EXISTS channel_accounts_plugin_name ON channel_accounts (plugin, name)",
    "CREATE UNIQUE INDEX IF NOT EXISTS agent_teams_agent_team ON agent_teams (agent, team)",
    "CREATE INDEX IF NOT EXISTS audit_entity ON audit_log (entity_type, entity_id)",
    "CREATE INDEX IF NOT EXISTS attachments_message ON attachments (message)",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)

    async def create_indexes():
        from core.db import engine

        for statement in INDEXES:
            await engine().run_ddl(statement)

    manager.add_raw(create_indexes)
    return manager
