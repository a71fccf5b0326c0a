"""`relaydesk demo` shows the product: reply templates in English and Chinese, customers on more than
one channel type, and their Shopify and Amazon orders in the ticket view's panels, with refund,
cancel and proactive-message buttons that work against the demo's own loopback platforms."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx

from core.config import load_settings
from core.desk import Desk
from core.tables import Macro, Message, Ticket
from plugins.amazon.tables import AmazonConversation
from plugins.demo.stores import AMAZON_BUYERS
from plugins.shopify.tables import ShopifyOrder
from tests.e2e.conftest import free_port
from tests.helpers import client_for
from tests.web.inbox_helpers import sign_in

ROOT = Path(__file__).resolve().parents[3]


async def test_the_demo_desk_has_templates_channels_and_order_panels(tmp_path, monkeypatch):
    from plugins.demo.setup import prepare_demo

    for name in ("RELAYDESK_CONFIG", "RELAYDESK_SECRET", "RELAYDESK_API_CHANNEL_SECRET", "RELAYDESK_DEMO_SHOPIFY_TOKEN",
                 "RELAYDESK_DEMO_SHOPIFY_SECRET", "RELAYDESK_DEMO_LWA_SECRET", "RELAYDESK_DEMO_LWA_REFRESH_TOKEN"):
        monkeypatch.setenv(name, os.environ.get(name, ""))  # prepare_demo sets them; restored afterwards
    config, token = await prepare_demo(tmp_path / "demo")
    assert token
    desk = Desk(load_settings(config))
    await desk.start(run_jobs=False)
    try:
        macros = {(m["shortcut"], m["language"]) for m in await Macro.select(Macro.shortcut, Macro.language)}
        assert {("where", "en"), ("where", "zh"), ("return", "en"), ("return", "zh")} <= macros
        channels = {t["channel_type"] for t in await Ticket.select(Ticket.channel_type)}
        assert {"demo", "api"} <= channels
        assert {a.channel_type for a in desk.registry.accounts.values()} >= {"demo", "api", "shopify", "amazon"}
        assert await ShopifyOrder.count() >= 10
        conversations = await AmazonConversation.select(AmazonConversation.ticket, AmazonConversation.order_id)
        assert sorted(c["order_id"] for c in conversations) == sorted(b["order"] for b in AMAZON_BUYERS)
        # the tickets customers just wrote (the months of solved history behind the reports aside)
        tickets = await Ticket.select(Ticket.id, Ticket.channel_type).where(Ticket.status.not_in(["solved", "closed"]))
        async with client_for(desk) as client:
            assert (await sign_in(client, "li.na@demo.relaydesk", "demo")).status_code in (302, 303)
            for ticket in tickets:  # every ticket of the demo has an order panel
                page = await client.get(f"/inbox/t/{ticket['id']}")
                assert page.status_code == 200
                assert "Shopify 订单" in page.text or "给买家发消息…" in page.text, ticket
            api_ticket = next(t for t in tickets if t["channel_type"] == "api")
            page = await client.get(f"/inbox/t/{api_ticket['id']}")
            assert "Shopify 订单" in page.text and "退款…" in page.text and "取消订单…" in page.text
            amazon_page = await client.get(f"/inbox/t/{conversations[0]['ticket']}")
            assert conversations[0]["order_id"] in amazon_page.text and "给买家发消息…" in amazon_page.text
            demo_ticket = next(t for t in tickets if t["channel_type"] == "demo")
            page = await client.get(f"/inbox/t/{demo_ticket['id']}")
            number = re.search(r'<a href="https://relaydesk-demo[^"]+"[^>]*>(#\d+)</a>', page.text).group(1)
            where_zh = await Macro.select(Macro.id).where((Macro.shortcut == "where") & (Macro.language == "zh")).first()
            preview = await client.get(f"/inbox/t/{demo_ticket['id']}/macros/{where_zh['id']}")
            assert preview.status_code == 200 and "#1" in preview.text and "您好" in preview.text
            assert number.startswith("#1")
            translated = await Message.select(Message.ticket).where(Message.external_id == "demo-translated-1").first()
            page = await client.get(f"/inbox/t/{translated['ticket']}")
            assert "beschädigt" in page.text and "arrived damaged" in page.text and "译文" in page.text
            # the demo help center (zh and en) and the sample store page with the contact widget
            help_zh = await client.get("/help/demo/zh/search", params={"q": "关税"})
            assert "需要支付关税吗？" in help_zh.text
            help_en = await client.get("/help/demo/en/search", params={"q": "refund"})
            assert "How do I return an item?" in help_en.text
            internal = await client.get("/help/demo/en/search", params={"q": "carrier"})
            assert 'data-results="0"' in internal.text  # the internal article stays inside the desk
            shop = await client.get("/demo-store")
            assert '<script src="/webchat/store/widget.js" async></script>' in shop.text
            # months of history behind the reports, with the 11.11 peak standing out
            await _history_shows_the_peak(desk)
            # assist: intent and sentiment on every ticket, automatic "where is my order" answers
            # from the tracking, and a suggested reply
            # (the months of past tickets behind the reports carry no text to classify)
            classified = await Ticket.select(Ticket.intent, Ticket.sentiment).where(
                Ticket.customer.email.not_like("past%@example.com"))
            assert classified and all(t["intent"] and t["sentiment"] for t in classified)
            answers = [m for m in await Message.select().where(Message.direction == "outbound").output(load_json=True)
                       if isinstance(m["metadata"], dict) and "assist" in m["metadata"]]
            assert answers and all("DHL" in m["text"] and "00340434" in m["text"] for m in answers)
            pages = [(await client.get(f"/inbox/t/{ticket_id}")).text for ticket_id in {m["ticket"] for m in answers}]
            assert all("意图:" in p and "情绪:" in p and "建议回复" in p and "自动回复" in p for p in pages)
            # each of those tickets' Assist panel says what happened last: answered, or (the sample
            # customers ask again) prepared again and left to an agent, in the agent's language
            from plugins.assist.inbox import ANSWER_TEXTS, _ as assist_text
            from plugins.assist.tables import AssistAnswer

            for ticket_id, text in zip(sorted({m["ticket"] for m in answers}), [
                    (await client.get(f"/inbox/t/{t}")).text for t in sorted({m["ticket"] for m in answers})]):
                latest = await AssistAnswer.select(AssistAnswer.mode, AssistAnswer.reason).where(
                    AssistAnswer.ticket == ticket_id).order_by(AssistAnswer.id, ascending=False).first()
                shown = assist_text(ANSWER_TEXTS[(latest["mode"], latest["reason"])], language="zh")
                assert shown.startswith("Assist") and shown in text, (ticket_id, latest)
            suggestions = [(await client.get(f"/inbox/plugins/assist/t/{t['id']}/suggestion")).text
                           for t in await Ticket.select(Ticket.id).where(Ticket.intent == "wismo")]
            assert any("00340434" in text and "data-insert" in text for text in suggestions)
    finally:
        await desk.stop()


async def _history_shows_the_peak(desk) -> None:
    from datetime import date, timedelta
    from zoneinfo import ZoneInfo

    from core import clock
    from core.reports import figures

    zone = ZoneInfo(desk.settings.timezone)
    today = clock.now().astimezone(zone).date()
    days = await figures.series(figures.period(today - timedelta(days=100), today - timedelta(days=1), zone))
    assert sum(d["created"] for d in days) > 700 and sum(d["solved"] for d in days) > 700
    assert sum(d["reopened"] for d in days) > 5
    peak = date(today.year if today >= date(today.year, 11, 12) else today.year - 1, 11, 11)
    by_day = {d["bucket"]: d["created"] for d in days}
    ordinary = sorted(by_day.values())[len(by_day) // 2]
    if peak.isoformat() in by_day:
        assert by_day[peak.isoformat()] > 2.5 * ordinary
    overview = await figures.totals(figures.period(today - timedelta(days=30), today, zone))
    assert overview["frt_n"] and overview["fr_breached"] and overview["fcr"]


def test_relaydesk_demo_refunds_and_messages_against_its_own_platforms(tmp_path):
    """The README's command, as a newcomer runs it: quick to start, under 150 MB, and the panel's
    buttons do what they say against the demo's loopback Shopify and Amazon."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELAYDESK_")}
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "core.cli", "demo", "--port", str(port), "--dir",
                                str(tmp_path / "demo")], cwd=ROOT, env=env, stdout=open(tmp_path / "demo.log", "w"),
                               stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        while True:
            assert process.poll() is None, (tmp_path / "demo.log").read_text()
            try:
                if httpx.get(base + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() - started < 40, "the demo did not start within 40 s"
            time.sleep(0.2)
        client = httpx.Client(base_url=base, timeout=15)
        token = re.search(r'name="_csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
        client.post("/login", data={"email": "admin@demo.relaydesk", "password": "demo", "_csrf_token": token})
        page = client.get("/inbox/t/1")
        headers = {"hx-request": "true", "x-csrftoken": re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)}
        row = re.search(r"/inbox/plugins/shopify/orders/(\d+)/refund/preview", page.text).group(1)
        line = re.search(r'name="line" value="(\d+)"', page.text).group(1)
        preview = client.post(f"/inbox/plugins/shopify/orders/{row}/refund/preview", headers=headers,
                              data={"line": line, f"qty_{line}": "1", "restock": "1", "notify": "1"})
        amount = re.search(r"Refund ([\d.]+ EUR) on order (#\d+)\?", preview.text)
        assert amount, preview.text
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', preview.text))
        done = client.post(f"/inbox/plugins/shopify/orders/{row}/refund", headers=headers, data=fields)
        assert done.status_code == 200 and f"Shopify refunded {amount.group(1)} on order {amount.group(2)}." in done.text
        order = AMAZON_BUYERS[0]["order"]
        listed = client.get(f"/inbox/plugins/amazon/orders/{order}/actions", headers=headers)
        assert re.findall(r'name="action" value="([^"]+)"', listed.text) == [
            "confirmDeliveryDetails", "unexpectedProblem", "negativeFeedbackRemoval"]
        sent = client.post(f"/inbox/plugins/amazon/orders/{order}/messages", headers=headers,
                           data={"action": "confirmDeliveryDetails", "text": "Your parcel arrives tomorrow."})
        assert sent.status_code == 200 and "Amazon accepted" in sent.text
        rss_kb = int(next(line for line in Path(f"/proc/{process.pid}/status").read_text().splitlines()
                          if line.startswith("VmRSS")).split()[1])
        assert rss_kb < 150 * 1024, f"the demo holds {rss_kb // 1024} MB"
    finally:
        process.terminate()
        process.wait(timeout=15)
