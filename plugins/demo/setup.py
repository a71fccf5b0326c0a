"""Prepare a self-contained demo desk in a folder: config, secrets, database, agents, sample tickets,
and the orders of the demo's Shopify store and Amazon seller account in the desk's cache."""

from __future__ import annotations

import random
import re
import secrets
from pathlib import Path

from plugins.demo import stores

DEMO_CONFIG = """\
[relaydesk]
database = "sqlite:///{db}"
timezone = "Asia/Shanghai"
secret = {{ env = "RELAYDESK_SECRET" }}
data_dir = "{data}"

[plugins]
enabled = ["demo", "api_channel", "shopify", "amazon", "kb", "webchat", "assist"]

[plugins.demo]
traffic_every = 15

[plugins.demo.accounts.shop]
label = "Demo shop"

# The contact widget of the sample store page (/demo-store): it searches the demo help center first.
[plugins.webchat.accounts.store]
help_brand = "demo"

# Intent and sentiment on every message; "where is my order" on the demo channel is answered from
# the order's tracking, elsewhere left as a ready draft (docs/plugins/assist.md).
[plugins.assist]
wismo_answer = {{ demo = "send" }}

[plugins.api_channel.accounts.default]
secret = {{ env = "RELAYDESK_API_CHANNEL_SECRET" }}

# The demo's Shopify store and Amazon seller account are served by the demo desk itself
# (plugins/demo/fakes.py, under /demo-platforms/ on this desk's own port): nothing leaves the machine.
[plugins.shopify]
money_actions_role = "agent"

[plugins.shopify.accounts.store]
shop = "{shop}"
access_token = {{ env = "RELAYDESK_DEMO_SHOPIFY_TOKEN" }}
webhook_secret = {{ env = "RELAYDESK_DEMO_SHOPIFY_SECRET" }}
base_url = "{platforms}/shopify"
max_attempts = 2

[plugins.amazon.accounts.seller]
lwa_client_id = "amzn1.application-oa2-client.demo"
lwa_client_secret = {{ env = "RELAYDESK_DEMO_LWA_SECRET" }}
refresh_token = {{ env = "RELAYDESK_DEMO_LWA_REFRESH_TOKEN" }}
endpoint = "{platforms}/amazon"
lwa_url = "{platforms}/amazon/auth/o2/token"
poll_orders = false
max_attempts = 2

[plugins.amazon.accounts.seller.marketplaces."amazon.de"]
marketplace_id = "A1PA6795UKMFR9"
seller_address = "shop@demo.relaydesk"
"""

# Where the desk reaches its own demo platforms: the port `relaydesk demo` listens on.
PLATFORMS = re.compile(r"http://127\.0\.0\.1:\d+/demo-platforms")


def platforms_url(port: int) -> str:
    return f"http://127.0.0.1:{port}/demo-platforms"


# Reply templates in English and Chinese: the reply box offers the version in the ticket's language.
MACROS = [
    ("Where is my order", "where", "en",
     "Hello {{ customer.name }},\n\nthank you for your patience. Your order {{ orders[0].name if orders else '' }} "
     "is on its way{% if orders and orders[0].get('fulfillments') %} (DHL "
     "{{ orders[0].fulfillments[0].tracking[0].number }}){% endif %}.\n\nBest regards,\n{{ agent.name }}"),
    ("订单在哪里", "where", "zh",
     "{{ customer.name }} 您好，\n\n感谢您的耐心等待。您的订单 {{ orders[0].name if orders else '' }} 已在路上"
     "{% if orders and orders[0].get('fulfillments') %}（DHL 单号 {{ orders[0].fulfillments[0].tracking[0].number }}）"
     "{% endif %}。\n\n{{ agent.name }}"),
    ("Return or exchange", "return", "en",
     "Hello {{ customer.name }},\n\nsorry about that. Reply with a photo of the item and we will send you a "
     "free return label for order {{ orders[0].name if orders else '' }}.\n\n{{ agent.name }}"),
    ("退换货", "return", "zh",
     "{{ customer.name }} 您好，\n\n非常抱歉。请回复商品照片，我们会为订单 {{ orders[0].name if orders else '' }} "
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


async def prepare_demo(directory: Path, port: int = 8000) -> tuple[Path, str]:
    """Create (or reuse) the demo folder; returns (config path, admin API token). `port` is where
    `relaydesk demo` will listen: the desk reaches its demo platforms there."""
    import os

    from core.plugin_api import db
    from core.plugin_api import create_token, hash_password
    from core.plugin_api import load_env_file
    from core.plugin_api import load_settings
    from core.plugin_api import Desk
    from core.plugin_api import ingest
    from core.plugin_api import migrate
    from core.plugin_api import Agent, Macro, Ticket
    from core.plugin_api import InboundMessage
    from plugins.demo import stores
    from plugins.demo.plugin import sample_message

    directory = directory.resolve()
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "plugins.toml"
    if not config.exists():
        config.write_text(DEMO_CONFIG.format(db=directory / "demo.db", data=directory / "data", shop=stores.SHOP,
                                             platforms=platforms_url(port)), encoding="utf-8")
        (directory / "relaydesk.env").write_text(
            f"RELAYDESK_SECRET={secrets.token_urlsafe(32)}\nRELAYDESK_API_CHANNEL_SECRET={secrets.token_urlsafe(24)}\n"
            f"RELAYDESK_DEMO_SHOPIFY_TOKEN=shpat_demo_{secrets.token_hex(8)}\n"
            f"RELAYDESK_DEMO_SHOPIFY_SECRET=shpss_demo_{secrets.token_hex(8)}\n"
            f"RELAYDESK_DEMO_LWA_SECRET=amzn1.oa2-cs.v1.demo{secrets.token_hex(8)}\n"
            f"RELAYDESK_DEMO_LWA_REFRESH_TOKEN=Atzr|demo{secrets.token_hex(8)}\n")
    else:  # started on another port this time: the desk's own platforms moved with it
        text = config.read_text(encoding="utf-8")
        moved = PLATFORMS.sub(platforms_url(port), text)
        if moved != text:
            config.write_text(moved, encoding="utf-8")
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
            # orders first: a "where is my order" message is then answered from its tracking (assist)
            await _cache_orders(desk)
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
            # Amazon buyers write through Amazon's relay; here their mail arrives on the demo channel
            await ingest(desk, account, [InboundMessage(
                external_id=f"demo-amazon-{i}", sender_handle=b["relay"], sender_name=f"{b['name']} - Amazon Marketplace",
                sender_email=b["relay"], subject=b["subject"], text=stores.amazon_relay_text(b), language="de")
                for i, b in enumerate(stores.AMAZON_BUYERS)])
            # months of past tickets for the reports and the forecast (an 11.11 peak among them)
            from core.plugin_api import clock
            from plugins.demo.history import add_history, add_shifts

            await add_history(desk, clock.now())
            await add_shifts()
        await _help_center()
        if not await Macro.exists():
            for name, shortcut, language, body in MACROS:
                await Macro.insert(Macro(name=name, shortcut=shortcut, language=language, body=body))
        return config, token_file.read_text().strip()
    finally:
        await desk.stop()


async def _help_center() -> None:
    """The demo help center in Chinese and English (shipping, returns, sizes, customs), imported
    from plugins/kb/demo like any knowledge-base folder."""
    from plugins.kb.folder import import_files
    from plugins.kb.tables import KbArticle
    from plugins.kb.theme import brand, save_brand

    if await brand("demo") is None:
        await save_brand("demo", name="Demo Shop", languages=["zh", "en"], primary_color="#0b6e4f",
                         footer_template="<p>{{ brand.name }} · <a href=\"/demo-store\">Shop</a></p>")
    if not await KbArticle.exists():
        folder = Path(__file__).resolve().parents[1] / "kb" / "demo"
        files = {p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8")
                 for p in sorted(folder.rglob("*")) if p.is_file()}
        await import_files(files, "demo")


async def _cache_orders(desk) -> None:
    """The demo platforms' orders in the desk's cache, through the plugins' own normalizers (what
    a Shopify backfill and an Amazon orders poll would store), linked to the customers who wrote."""
    from core.plugin_api import db
    from plugins.amazon.orders import normalize, upsert
    from plugins.shopify.cache import upsert_order
    from plugins.shopify.normalize import graphql_order

    store = next((a for a in desk.registry.accounts.values() if a.plugin == "shopify"), None)
    seller = next((a for a in desk.registry.accounts.values() if a.plugin == "amazon"), None)
    async with db.transaction():
        if store is not None:
            for order in stores.shopify_orders():
                await upsert_order(store, graphql_order(order), trust_verified=True, force=True)
        if seller is not None:
            for order, items in stores.amazon_orders():
                await upsert(seller, normalize(order, items, seller))
