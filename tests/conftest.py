"""The desk's own tests use the packaged test kit (relaydesk_testing, loaded by its pytest11 entry
point): `db_url` (SQLite and PostgreSQL), `make_desk`, `desk`, `redis_url`, `receiver`,
`controlled_clock`, `api_client`, `agent_api`, `signed_in_agent`. This file adds only what is
particular to this repository. PostgreSQL and Redis are real services; when one is missing the
tests fail loudly instead of skipping.
"""

from __future__ import annotations

import importlib

import pytest

# Older tests import these names from here; they live in the kit.
from relaydesk_testing import API_SECRET, LOOPBACK, PG_ADMIN_URL, REDIS_URL  # noqa: F401
from relaydesk_testing import allow_loopback, base_config, empty_tables, wait_for  # noqa: F401
from relaydesk_testing.databases import create_pg_database as _create_pg_database  # noqa: F401
from relaydesk_testing.databases import drop_pg_database as _drop_pg_database  # noqa: F401

# The bundled plugins' tables register themselves (core.db.register_tables) on import; importing
# them here lets the kit empty them between tests once their migrations have created them.
for _module in ("plugins.shopify.tables", "plugins.translate.tables", "plugins.csat.tables",
                "plugins.amazon.tables", "plugins.ebay.tables", "plugins.kb.tables", "plugins.webchat.tables",
                "plugins.assist.tables"):
    importlib.import_module(_module)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/tests/e2e/" in str(item.path):
            # Browser tests run one after another in one xdist worker: they work at human pace and
            # time page loads, so they must not race each other for the two cores.
            item.add_marker(pytest.mark.xdist_group("browser"))
