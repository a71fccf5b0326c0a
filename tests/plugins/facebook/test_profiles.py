"""Customers are named from Meta's User Profile API after their first message, never over a name
an agent gave; a person Meta will not describe costs one call, not one per message."""

from __future__ import annotations

from core.tables import Customer, Identity, Ticket
from tests.conftest import wait_for
from tests.plugins.facebook.fb_helpers import IG_ID, IGSID, PSID, facebook, hooks_client, incoming, page_payload, post
from tests.plugins.whatsapp.graph_loopback import Failure


async def customer_of(ticket_id: int) -> dict:
    ticket = await Ticket.select(Ticket.customer).where(Ticket.id == ticket_id).first()
    return await Customer.select().where(Customer.id == ticket["customer"]).first()


async def send_in(desk, payload: dict, account: str = "shop") -> int:
    async with hooks_client(desk) as client:
        res = await post(client, payload, account=account)
    assert res.status_code == 200
    return res.json()["messages"][0]["ticket_id"]


def profile_calls(graph, scoped_id: str) -> list:
    return [c for c in graph.calls if c.method == "GET" and c.path.endswith(f"/{scoped_id}")]


async def named(ticket_id: int, name: str):
    customer = await customer_of(ticket_id)
    return customer if customer["name"] == name else None


async def test_a_messenger_customer_gets_their_name(make_desk, graph):
    graph.profiles[PSID] = {"first_name": "Lena", "last_name": "Vogel", "profile_pic": "https://cdn.example/p.jpg"}
    desk = await make_desk(facebook(graph))
    ticket_id = await send_in(desk, page_payload([incoming("m_1")]))
    customer = await wait_for(lambda: named(ticket_id, "Lena Vogel"))
    identity = await Identity.select().where(Identity.customer == customer["id"]).first()
    assert identity["display_name"] == "Lena Vogel"
    [call] = profile_calls(graph, PSID)
    assert call.query["fields"] == ["first_name,last_name"] and call.headers["authorization"].startswith("Bearer ")
    # Named once: the next message does not ask again.
    second = await send_in(desk, page_payload([incoming("m_2", text="Any news?")]))
    from plugins.facebook import profiles
    assert await profiles.fetch_job({"desk": desk}, await _last_message(second)) is False
    assert len(profile_calls(graph, PSID)) == 1


async def test_an_instagram_customer_gets_name_or_username(make_desk, graph):
    graph.profiles[IGSID] = {"username": "lena.shops"}
    desk = await make_desk(facebook(graph))
    payload = page_payload([incoming("ig_1", sender=IGSID, node=IG_ID)], node=IG_ID, obj="instagram")
    ticket_id = await send_in(desk, payload, account="insta")
    await wait_for(lambda: named(ticket_id, "lena.shops"))
    [call] = profile_calls(graph, IGSID)
    assert call.query["fields"] == ["name,username"]


async def test_an_agents_name_for_the_customer_stays(make_desk, graph):
    graph.profiles[PSID] = {"first_name": "Lena", "last_name": "Vogel"}
    desk = await make_desk(facebook(graph, fetch_names=False))
    ticket_id = await send_in(desk, page_payload([incoming("m_1")]))
    customer = await customer_of(ticket_id)
    await Customer.update({Customer.name: "Frau Vogel (VIP)"}).where(Customer.id == customer["id"])
    assert profile_calls(graph, PSID) == []  # fetch_names = false: no call at all
    from plugins.facebook import profiles
    desk.registry.account("facebook", "shop").settings.fetch_names = True
    message = await _last_message(ticket_id)
    assert await profiles.fetch_job({"desk": desk}, message) is True
    assert (await customer_of(ticket_id))["name"] == "Frau Vogel (VIP)"
    identity = await Identity.select().where(Identity.customer == customer["id"]).first()
    assert identity["display_name"] == "Lena Vogel"  # the channel's name is kept beside it


async def test_a_person_meta_will_not_describe_is_asked_once(make_desk, graph):
    desk = await make_desk(facebook(graph, fetch_names=False))
    ticket_id = await send_in(desk, page_payload([incoming("m_1")]))
    from plugins.facebook import profiles
    desk.registry.account("facebook", "shop").settings.fetch_names = True
    graph.failures.append(Failure(PSID, 400, 230, "User consent is required to access user profile"))
    message = await _last_message(ticket_id)
    assert await profiles.fetch_job({"desk": desk}, message) is False
    assert await profiles.fetch_job({"desk": desk}, message) is False
    assert len(profile_calls(graph, PSID)) == 1
    assert (await customer_of(ticket_id))["name"] in (None, "", PSID)


async def _last_message(ticket_id: int) -> int:
    from core.tables import Message
    row = await Message.select(Message.id).where(Message.ticket == ticket_id).order_by(Message.id, ascending=False).first()
    return row["id"]
