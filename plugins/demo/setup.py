"""Prepare a self-contained demo desk in a folder: config, secrets, database, agents, sample tickets."""

from __future__ import annotations

import random
import secrets
from pathlib import Path

DEMO_CONFIG = """\
[relaydesk]
database = "sqlite:///{db}"
timezone = "Asia/Shanghai"
secret = {{ env = "RELAYDESK_SECRET" }}
data_dir = "{data}"

[plugins]
enabled = ["demo", "api_channel"]

[plugins.demo]
traffic_every = 15

[plugins.demo.accounts.shop]
label = "Demo shop"

[plugins.api_channel.accounts.default]
secret = {{ env = "RELAYDESK_API_CHANNEL_SECRET" }}
"""

AGENTS = [
    ("Demo Admin", "admin@demo.relaydesk", "admin", ["en", "zh"]),
    ("李娜", "li.na@demo.relaydesk", "agent", ["zh", "en"]),
    ("Jonas Weber", "jonas@demo.relaydesk", "agent", ["de", "en"]),
]


async def prepare_demo(directory: Path) -> tuple[Path, str]:
    """Create (or reuse) the demo folder; returns (config path, admin API token)."""
    import os

    from core import db
    from core.auth import create_token, hash_password
    from core.cli import load_env_file
    from core.config import load_settings
    from core.desk import Desk
    from core.inbound import ingest
    from core.migrate import migrate
    from core.tables import Agent, Ticket
    from plugins.demo.plugin import sample_message

    directory = directory.resolve()
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "plugins.toml"
    if not config.exists():
        config.write_text(DEMO_CONFIG.format(db=directory / "demo.db", data=directory / "data"), encoding="utf-8")
        (directory / "relaydesk.env").write_text(
            f"RELAYDESK_SECRET={secrets.token_urlsafe(32)}\nRELAYDESK_API_CHANNEL_SECRET={secrets.token_urlsafe(24)}\n")
    load_env_file(str(config))
    os.environ["RELAYDESK_CONFIG"] = str(config)
    desk = Desk(load_settings(config))
    await db.connect(desk.settings.database)
    try:
        await migrate(desk.registry.migrations)
    finally:
        await db.disconnect()
    await desk.start(run_jobs=False)
    try:
        token_file = directory / "admin-token.txt"
        if not await Agent.exists():
            for name, email, role, languages in AGENTS:
                await Agent.insert(Agent(name=name, email=email, role=role, languages=languages,
                                         password_hash=hash_password("demo"), availability="online"))
        if not token_file.exists():
            admin = await Agent.select(Agent.id).where(Agent.role == "admin").first()
            token_file.write_text(await create_token(admin["id"], "demo"))
            token_file.chmod(0o600)
        if not await Ticket.exists():
            account = next(a for a in desk.registry.accounts.values() if a.plugin == "demo")
            rng = random.Random(7)
            await ingest(desk, account, [sample_message(rng) for _ in range(24)])
        return config, token_file.read_text().strip()
    finally:
        await desk.stop()
