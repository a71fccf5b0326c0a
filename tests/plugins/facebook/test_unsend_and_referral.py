"""Documented payloads the desk used to drop (issue 16): an Instagram unsend withdraws the stored
message and the agent sees so; a Messenger conversation started from an ad keeps its referral and
the agent sees it."""

from __future__ import annotations

import json

from core.tables import Message
from tests.helpers import client_for, make_agent
from tests.plugins.facebook.fb_helpers import IG_ID, IGSID, PSID, facebook, incoming, page_payload, post
from tests.web.inbox_helpers import sign_in

AD = {"ref": "summer-sale", "ad_id": "6045246247433", "source": "ADS", "type": "OPEN_THREAD",
      "ads_context_data": {"ad_title": "Summer boots", "photo_url": "https://scontent.example/p.jpg", "post_id": "1_2"}}


def _meta(row: dict) -> dict:
    return row["metadata"] if isinstance(row["metadata"], dict) else json.loads(row["metadata"] or "{}")


async def test_unsend_withdraws_the_message_and_an_ad_referral_is_kept_and_shown(make_desk, graph):
    desk = await make_desk(facebook(graph))
    _, _ = await make_agent("agent", email="ana@example.com")
    async with client_for(desk) as client:
        sent = await post(client, page_payload([incoming("ig_secret", "my card number is 4111", sender=IGSID, node=IG_ID)],
                                               node=IG_ID, obj="instagram"), account="insta")
        assert sent.status_code == 200 and sent.json()["stored"] == 1
        ig_ticket = sent.json()["messages"][0]["ticket_id"]
        unsend = {"sender": {"id": IGSID}, "recipient": {"id": IG_ID}, "timestamp": 1700000009000,
                  "message": {"mid": "ig_secret", "is_deleted": True}}
        res = await post(client, page_payload([unsend], node=IG_ID, obj="instagram"), account="insta")
        assert res.status_code == 200 and res.json()["withdrawn"] == 1
        again = await post(client, page_payload([unsend], node=IG_ID, obj="instagram"), account="insta")
        assert again.status_code == 200 and again.json()["withdrawn"] == 0  # a replay changes nothing

        first = incoming("m_from_ad", "Are these boots waterproof?", referral=AD)
        res = await post(client, page_payload([first]))
        assert res.status_code == 200 and res.json()["stored"] == 1
        ad_ticket = res.json()["messages"][0]["ticket_id"]
        get_started = {"sender": {"id": "777"}, "recipient": {"id": first["recipient"]["id"]}, "timestamp": 1700000010000,
                       "postback": {"title": "Get Started", "payload": "GET_STARTED", "mid": "m_pb_ref",
                                    "referral": {"ref": "spring", "source": "SHORTLINK", "type": "OPEN_THREAD"}}}
        assert (await post(client, page_payload([get_started]))).json()["stored"] == 1

        assert (await sign_in(client, "ana@example.com")).status_code in (302, 303)
        ig_page = (await client.get(f"/inbox/t/{ig_ticket}")).text
        ad_page = (await client.get(f"/inbox/t/{ad_ticket}")).text

    row = await Message.select(Message.text, Message.metadata).where(Message.external_id == "ig_secret").first()
    assert row["text"] == "" and _meta(row)["withdrawn_at"].startswith("2023-11-14T22:13:29")
    # In the agent's zone and language (the desk's default: UTC, English).
    assert "The customer withdrew this message (11/14/23, 10:13\u202fPM)." in ig_page.replace("&#8239;", "\u202f")
    assert "4111" not in ig_page

    row = await Message.select(Message.metadata).where(Message.external_id == "m_from_ad").first()
    assert _meta(row)["referral"] == AD
    assert "Came from an ad" in ad_page and "6045246247433" in ad_page and "summer-sale" in ad_page
    assert "Summer boots" in ad_page and "Source: ADS" in ad_page
    row = await Message.select(Message.metadata).where(Message.external_id == "m_pb_ref").first()
    assert _meta(row)["referral"] == {"ref": "spring", "source": "SHORTLINK", "type": "OPEN_THREAD"}
    assert PSID
