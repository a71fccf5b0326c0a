"""Relaydesk's test kit, installed with the desk: pytest fixtures (registered through the
`pytest11` entry point, see relaydesk_testing.plugin) and the helpers below, for the desk's own
tests and for any plugin's. docs/writing-a-plugin.md, "Testing your plugin", shows them in use;
relaydesk_testing.conformance runs a channel through the channel contract.
"""

from relaydesk_testing.clients import (
    PASSWORD,
    Signer,
    as_body,
    auth,
    client_for,
    csrf_from,
    form_post,
    hmac_sha256_signer,
    make_agent,
    post_webhook,
    sign_in,
)
from relaydesk_testing.clock import T0, ControlledClock, ShiftedClock
from relaydesk_testing.databases import (
    API_SECRET,
    LOOPBACK,
    PG_ADMIN_URL,
    REDIS_URL,
    allow_loopback,
    base_config,
    create_pg_database,
    drop_pg_database,
    empty_tables,
    enable,
)
from relaydesk_testing.jobs import drain_jobs, wait_for
from relaydesk_testing.loopback import HttpFake, LoopbackServer, Recorded, Reply, Scripted

__all__ = [
    "API_SECRET", "LOOPBACK", "PASSWORD", "PG_ADMIN_URL", "REDIS_URL", "T0",
    "ControlledClock", "HttpFake", "ShiftedClock", "LoopbackServer", "Recorded", "Reply", "Scripted", "Signer",
    "allow_loopback", "as_body", "auth", "base_config", "client_for", "create_pg_database", "csrf_from",
    "drain_jobs", "drop_pg_database", "empty_tables", "enable", "form_post", "hmac_sha256_signer", "make_agent",
    "post_webhook", "sign_in", "wait_for",
]
