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
    desk = await make_desk(facebook(graph))
    # The customer is known already, under the name an agent gave.
    customer = (await Customer.insert(Customer(name="Frau Vogel (VIP)")).returning(Customer.id))[0]["id"]
    await Identity.insert(Identity(customer=customer, channel_type="messenger", handle=PSID))
    ticket_id = await send_in(desk, page_payload([incoming("m_1")]))
    assert (await customer_of(ticket_id))["id"] == customer

    async def channel_name():
        row = await Identity.select(Identity.display_name).where(Identity.customer == customer).first()
        return row["display_name"]

    assert await wait_for(channel_name) == "Lena Vogel"  # the channel's name is kept beside it
    assert (await customer_of(ticket_id))["name"] == "Frau Vogel (VIP)"


async def test_a_person_meta_will_not_describe_is_asked_once(make_desk, graph):
    from plugins.facebook import profiles

    graph.failures.append(Failure(PSID, 400, 230, "User consent is required to access user profile"))
    desk = await make_desk(facebook(graph))
    ticket_id = await send_in(desk, page_payload([incoming("m_1")]))
    await wait_for(lambda: _refused(profiles, desk))
    second = await send_in(desk, page_payload([incoming("m_2", text="Hello?")]))
    assert await profiles.fetch_job({"desk": desk}, await _last_message(second)) is False
    assert len(profile_calls(graph, PSID)) == 1
    assert (await customer_of(ticket_id))["name"] in (None, "", PSID)


async def test_no_call_when_turned_off(make_desk, graph):
    graph.profiles[PSID] = {"first_name": "Lena", "last_name": "Vogel"}
    desk = await make_desk(facebook(graph, fetch_names=False))
    ticket_id = await send_in(desk, page_payload([incoming("m_1")]))
    from plugins.facebook import profiles
    assert await profiles.fetch_job({"desk": desk}, await _last_message(ticket_id)) is False
    assert profile_calls(graph, PSID) == []


async def _refused(profiles, desk) -> bool:
    return bool(profiles._REFUSED.get(desk))


async def _last_message(ticket_id: int) -> int:
    from core.tables import Message
    row = await Message.select(Message.id).where(Message.ticket == ticket_id).order_by(Message.id, ascending=False).first()
    return row["id"]
