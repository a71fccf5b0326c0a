"""The ticket view suggests the articles that match the ticket, in its language, offline; the agent
previews a link or a passage for the reply box and the ticket records which article was used."""

from __future__ import annotations

import re
from typing import Any, Callable

from core.tables import Ticket
from plugins.kb import store
from plugins.kb.suggest import rank
from plugins.kb.tables import KbUse
from tests.helpers import client_for, make_agent, message, post_messages
from tests.plugins.kb.conftest import kb_desk
from tests.web.inbox_helpers import sign_in

ARTICLES = [
    ("shipping-time", "public", ("How long does shipping take?", "<p>Parcels arrive in 7 to 12 days. Track your parcel with the tracking number in your email.</p>"),
     ("配送需要多长时间？", "<p>包裹通常在7到12天内送达。您可以用邮件里的物流单号查询包裹物流。</p>")),
    ("returns", "public", ("How do I return an item?", "<p>Send the item back within 30 days for a refund.</p>"),
     ("如何退货？", "<p>收到商品30天内可以退货退款。</p>")),
    ("sizes", "public", ("Size guide", "<p>Our shoes run small: choose one size up.</p>"),
     ("尺码指南", "<p>我们的鞋子偏小，建议选大一码。</p>")),
    ("carrier-escalation", "internal", ("Lost parcel: carrier escalation", "<p>After 20 days open a trace with the carrier; the parcel tracking is in the order.</p>"), None),
]


async def _seed() -> dict[str, int]:
    ids = {}
    for slug, visibility, en, zh in ARTICLES:
        article = await store.save_article(article_id=None, slug=slug, category=None, visibility=visibility,
                                           brands=[], tags=[])
        await store.save_translation(article, "en", title=en[0], body_html=en[1], status="published", author="t")
        if zh:
            await store.save_translation(article, "zh", title=zh[0], body_html=zh[1], status="published", author="t")
        ids[slug] = article
    return ids


async def test_ranking_by_language(make_desk: Callable[..., Any]) -> None:
    await kb_desk(make_desk)
    ids = await _seed()
    zh = await rank("你好，我的包裹什么时候能送达？物流三天没有更新了", "zh")
    assert zh[0]["article"] == ids["shipping-time"] and zh[0]["title"] == "配送需要多长时间？"
    en = await rank("Hi, I want to return these shoes and get a refund", "en")
    assert en[0]["article"] == ids["returns"]
    internal = await rank("my parcel is lost, can the carrier trace it?", "en")
    assert ids["carrier-escalation"] in [a["article"] for a in internal]  # agents see internal articles
    assert await rank("completely unrelated words xylophone", "en") == []


async def test_panel_suggests_and_records_use(make_desk: Callable[..., Any]) -> None:
    from plugins.kb import theme

    desk = await kb_desk(make_desk, public_url=None)
    ids = await _seed()
    await theme.save_brand("shop", name="Shop", languages=["en", "zh"])
    await make_agent("agent", email="agent@example.com")
    async with client_for(desk) as client:
        posted = await post_messages(client, [message("m1", "cust-1", "你好，我的包裹什么时候能送达？物流三天没有更新了，很着急。")])
        assert posted.status_code < 300, posted.text
        ticket = (await Ticket.select(Ticket.id, Ticket.language).first())
        assert ticket["language"] in (None, "zh")  # without a classifier the panel detects it
        await sign_in(client, "agent@example.com")
        page = await client.get(f"/inbox/t/{ticket['id']}")
        assert page.status_code == 200
        panel = page.text.split("Help articles", 1)[1]
        first = re.search(r'<a href="/inbox/kb/articles/(\d+)\?lang=zh"[^>]*>([^<]+)</a>', panel)
        assert first and int(first.group(1)) == ids["shipping-time"] and first.group(2) == "配送需要多长时间？"
        assert 'hx-post="/inbox/plugins/kb/use"' in panel
        token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)
        passage = await client.post("/inbox/plugins/kb/use", headers={"x-csrftoken": token, "hx-request": "true"},
                                    data={"ticket": ticket["id"], "article": ids["shipping-time"], "language": "zh",
                                          "mode": "passage"})
        assert passage.status_code == 200 and "data-insert" in passage.text
        assert "包裹通常在7到12天内送达。" in passage.text
        link = await client.post("/inbox/plugins/kb/use", headers={"x-csrftoken": token, "hx-request": "true"},
                                 data={"ticket": ticket["id"], "article": ids["shipping-time"], "language": "zh",
                                       "mode": "link"})
        assert f"/help/shop/zh/articles/{ids['shipping-time']}/shipping-time" in link.text
        bad = await client.post("/inbox/plugins/kb/use", headers={"x-csrftoken": token, "hx-request": "true"},
                                data={"ticket": ticket["id"], "article": "x", "mode": "link"})
        assert bad.status_code == 400
    uses = await KbUse.select().where(KbUse.ticket == ticket["id"]).order_by(KbUse.id)
    assert [(u["article"], u["mode"]) for u in uses] == [(ids["shipping-time"], "passage"), (ids["shipping-time"], "link")]
