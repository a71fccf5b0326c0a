"""Identity (issue 19 item 8): merge through the API as well as the panel, undo a merge so each
identity, ticket and message goes back where it came from (tickets a source identity opened after
the merge too), and a merge suggested when two customers wrote about the same order number."""

from __future__ import annotations

from core import search
from core.tables import Customer, Identity, Message, Ticket
from tests.helpers import auth, client_for, make_agent, message, post_messages
from tests.web.inbox_helpers import csrf_from, sign_in


async def _customer(text: str) -> int:
    return (await Message.select(Message.customer).where(Message.text == text).first())["customer"]


async def _ticket(text: str) -> int:
    return (await Message.select(Message.ticket).where(Message.text == text).first())["ticket"]


async def test_merge_by_api_then_split_puts_everything_back(desk):
    _, token = await make_agent("agent", email="merger@example.com")
    async with client_for(desk) as client:
        await post_messages(client, [message("m-1", "amz-buyer-77", "Order 302-1234567 arrived broken",
                                             details={"name": "M. Keller"}),
                                     message("m-2", "m.keller@example.de", "Same problem, writing by mail",
                                             details={"name": "Martina Keller", "email": "m.keller@example.de"})])
        source, target = await _customer("Order 302-1234567 arrived broken"), await _customer("Same problem, writing by mail")
        before_target = await Customer.select().where(Customer.id == target).first()
        merged = await client.post(f"/api/v1/customers/{target}/merge", json={"source_id": source}, headers=auth(token))
        assert merged.status_code == 200
        assert {r["customer"] for r in await Ticket.select(Ticket.customer)} == {target}
        # after the merge the source identity opens another ticket: it lands on the target
        await post_messages(client, [message("m-3", "amz-buyer-77", "And a new question about a second order",
                                             thread_id="second-order-thread")])
        later = await _ticket("And a new question about a second order")
        assert (await Ticket.select(Ticket.customer).where(Ticket.id == later).first())["customer"] == target
        again = await client.post(f"/api/v1/customers/{target}/merge", json={"source_id": source}, headers=auth(token))
        assert again.status_code == 400  # already merged

        split = await client.post(f"/api/v1/customers/{source}/split", headers=auth(token))
        assert split.status_code == 200
        assert later in split.json()["tickets"]
        owner = {r["id"]: r["customer"] for r in await Ticket.select(Ticket.id, Ticket.customer)}
        assert owner[await _ticket("Order 302-1234567 arrived broken")] == source
        assert owner[later] == source
        assert owner[await _ticket("Same problem, writing by mail")] == target
        assert {r["customer"] for r in await Message.select(Message.customer).where(
            Message.text.is_in(["Order 302-1234567 arrived broken", "And a new question about a second order"]))} == {source}
        assert {r["handle"] for r in await Identity.select(Identity.handle).where(Identity.customer == source)} == {"amz-buyer-77"}
        row = await Customer.select().where(Customer.id == source).first()
        assert row["merged_into"] is None
        after_target = await Customer.select().where(Customer.id == target).first()
        assert after_target["name"] == before_target["name"] and after_target["email"] == before_target["email"]
        assert (await client.post(f"/api/v1/customers/{source}/split", headers=auth(token))).status_code == 400
        for bad in ({"source_id": 0}, {"source_id": "abc"}, {}, {"source_id": 1, "x": 1}):
            assert (await client.post(f"/api/v1/customers/{target}/merge", json=bad, headers=auth(token))).status_code == 400
        assert (await client.post(f"/api/v1/customers/{target}/merge", json={"source_id": 99999999},
                                  headers=auth(token))).status_code == 404


async def test_a_shared_order_number_suggests_a_merge_and_the_panel_undoes_one(desk):
    await make_agent("agent", email="panel-merge@example.com")
    async with client_for(desk) as client:
        await post_messages(client, [
            message("o-1", "ebay-user-9", "Where is 12-34567-89012?", order_ids=["12-34567-89012"]),
            message("o-2", "buyer@example.fr", "Toujours rien pour ma commande", order_ids=["12-34567-89012"],
                    details={"email": "buyer@example.fr"}),
            message("o-3", "someone-else", "unrelated", order_ids=["99-00000-00000"]),
        ])
        await search.catch_up()
        first, second = await _customer("Where is 12-34567-89012?"), await _customer("Toujours rien pour ma commande")
        ticket = await _ticket("Where is 12-34567-89012?")
        await sign_in(client, "panel-merge@example.com")
        view = await client.get(f"/inbox/t/{ticket}")
        assert "also wrote about order 12-34567-89012" in view.text and f"#{second}" in view.text
        assert f'value="{await _customer("unrelated")}"' not in view.text
        merged = await client.post(f"/inbox/customers/{first}/merge", data={
            "_csrf_token": csrf_from(view.text), "source": str(second), "back": f"/inbox/t/{ticket}"}, follow_redirects=False)
        assert merged.status_code in (302, 303)
        view = await client.get(f"/inbox/t/{ticket}")
        assert "Undo merge" in view.text
        undone = await client.post(f"/inbox/customers/{second}/split", data={
            "_csrf_token": csrf_from(view.text), "back": f"/inbox/t/{ticket}"}, follow_redirects=False)
        assert undone.status_code in (302, 303) and undone.headers["location"] == f"/inbox/t/{ticket}"
        assert (await Customer.select(Customer.merged_into).where(Customer.id == second).first())["merged_into"] is None
