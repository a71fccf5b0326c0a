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

# Reply templates in English and Chinese: the reply box offers the version in the ticket's language.
MACROS = [
    ("Where is my order", "where", "en",
     "Hello {{ customer.name }},\n\nthank you for your patience. Your order {{ orders[0].number if orders else '' }} "
     "is on its way{% if orders and orders[0].tracking %} (tracking {{ orders[0].tracking }}){% endif %}.\n\n"
     "Best regards,\n{{ agent.name }}"),
    ("订单在哪里", "where", "zh",
     "{{ customer.name }} 您好，\n\n感谢您的耐心等待。您的订单 {{ orders[0].number if orders else '' }} 已在路上"
     "{% if orders and orders[0].tracking %}（物流单号 {{ orders[0].tracking }}）{% endif %}。\n\n{{ agent.name }}"),
    ("Return or exchange", "return", "en",
     "Hello {{ customer.name }},\n\nsorry about that. Reply with a photo of the item and we will send you a "
     "free return label for order {{ orders[0].number if orders else '' }}.\n\n{{ agent.name }}"),
    ("退换货", "return", "zh",
     "{{ customer.name }} 您好，\n\n非常抱歉。请回复商品照片，我们会为订单 {{ orders[0].number if orders else '' }} "
     "寄送免费退货标签。\n\n{{ agent.name }}"),
]

# A few customers who write through the API channel (a shop's own contact form, say), so the inbox
# shows more than one channel type.
API_CUSTOMERS = [
    ("Olivia Brown", "olivia.brown@example.com", "Can I still change the delivery address of my order?"),
    ("陈晓华", "xiaohua.chen@example.cn", "请问可以开具增值税发票吗？"),
]

# One message arrives with its translation for the agent, stored the way the translate plugin stores
# one (metadata["translation"]), so the timeline shows what that plugin gives a seller. The demo runs
# no translation service: the text is written here.
TRANSLATED = ("Katrin Vogel", "katrin.vogel@example.de", "de",
              "Guten Tag, das Paket zu meiner Bestellung ist beschädigt angekommen. Können Sie mir Ersatz schicken?",
              "Hello, the parcel for my order arrived damaged. Can you send me a replacement?")

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
    from core.tables import Agent, Macro, Ticket
    from core.types import InboundMessage
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
                # the inbox speaks the agent's first language where it has a catalog (李娜 sees Chinese)
                await Agent.insert(Agent(name=name, email=email, role=role, languages=languages,
                                         locale="zh" if languages[0] == "zh" else "en",
                                         password_hash=hash_password("demo"), availability="online"))
        if not token_file.exists():
            admin = await Agent.select(Agent.id).where(Agent.role == "admin").first()
            token_file.write_text(await create_token(admin["id"], "demo"))
            token_file.chmod(0o600)
        if not await Ticket.exists():
            account = next(a for a in desk.registry.accounts.values() if a.plugin == "demo")
            rng = random.Random(7)
            await ingest(desk, account, [sample_message(rng) for _ in range(24)])
            name, email, language, text, english = TRANSLATED
            await ingest(desk, account, [InboundMessage(
                external_id="demo-translated-1", sender_handle=email, sender_name=name, sender_email=email,
                email_verified=True, text=text, language=language,
                metadata={"translation": {"text": english, "language": "en", "source": language,
                                          "provider": "demo"}})])
            api = next((a for a in desk.registry.accounts.values() if a.plugin == "api_channel"), None)
            if api is not None:
                await ingest(desk, api, [InboundMessage(
                    external_id=f"demo-api-{i}", sender_handle=email, sender_name=name, sender_email=email,
                    email_verified=True, text=text) for i, (name, email, text) in enumerate(API_CUSTOMERS)])
        if not await Macro.exists():
            for name, shortcut, language, body in MACROS:
                await Macro.insert(Macro(name=name, shortcut=shortcut, language=language, body=body))
        return config, token_file.read_text().strip()
    finally:
        await desk.stop()
