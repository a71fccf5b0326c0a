"""Queues, the ticket view, bulk actions, macros and merges through the inbox's pages."""

from __future__ import annotations

import re
from datetime import timedelta

from core import clock
from core.tables import AuditEntry, Customer, Macro, Message, Ticket, TicketTag
from tests.helpers import client_for, make_agent, message, post_messages
from tests.web.inbox_helpers import form_post, sign_in


def msg(external_id: str, sender: str = "cust-1", text: str = "Hello", name: str | None = None, **extra):
    body = message(external_id, sender, text, **extra)
    if name:
        body["sender"]["name"] = name
    return body


def ticket_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'class="ticket-row[^"]*" data-ticket="(\d+)"', html)]


async def _setup(desk, client, n: int = 3) -> list[int]:
    await post_messages(client, [message(f"m{i}", sender=f"c{i}", text=f"question {i}") for i in range(n)])
    return [r["id"] for r in await Ticket.select(Ticket.id).order_by(Ticket.id)]


async def test_queues_sort_by_sla_due_and_count(desk):
    me, _ = await make_agent("agent", email="q@example.com")
    async with client_for(desk) as client:
        ids = await _setup(desk, client, 4)
        now = clock.now()
        # due: ids[2] breached, ids[0] due in 30 min, ids[1] due tomorrow, ids[3] none
        await Ticket.update({Ticket.sla_due_at: now - timedelta(minutes=5)}).where(Ticket.id == ids[2])
        await Ticket.update({Ticket.sla_due_at: now + timedelta(minutes=30)}).where(Ticket.id == ids[0])
        await Ticket.update({Ticket.sla_due_at: now + timedelta(days=1)}).where(Ticket.id == ids[1])
        await Ticket.update({Ticket.sla_due_at: None}).where(Ticket.id == ids[3])
        await Ticket.update({Ticket.assignee: me}).where(Ticket.id == ids[1])
        await sign_in(client, "q@example.com")
        page = await client.get("/inbox/q/open")
        assert ticket_ids(page.text) == [ids[2], ids[0], ids[1], ids[3]]
        assert ticket_ids((await client.get("/inbox/q/breached")).text) == [ids[2]]
        assert ticket_ids((await client.get("/inbox/q/due_soon")).text) == [ids[0]]
        assert ticket_ids((await client.get("/inbox/q/mine")).text) == [ids[1]]
        assert ticket_ids((await client.get("/inbox/q/unassigned")).text) == [ids[2], ids[0], ids[3]]
        nav = page.text.split('id="queue-nav"')[1].split("</nav>")[0]
        counts = dict(re.findall(r'data-queue="(\w+)">\s*<span>[^<]*</span><span class="count">(\d+)</span>', nav))
        assert counts == {"mine": "1", "unassigned": "3", "open": "4", "pending": "0", "due_soon": "1", "breached": "1",
                          "pool": "0"}
        assert (await client.get("/inbox/q/nonsense")).status_code == 400


async def test_cursor_pagination_walks_every_ticket_once(desk):
    await make_agent("agent", email="p@example.com")
    async with client_for(desk) as client:
        await post_messages(client, [message(f"m{i}", sender=f"c{i}", text="x") for i in range(60)])
        now = clock.now()
        ids = [r["id"] for r in await Ticket.select(Ticket.id).order_by(Ticket.id)]
        for n, ticket_id in enumerate(ids[:40]):  # 40 with due times (some equal), 20 without
            await Ticket.update({Ticket.sla_due_at: now + timedelta(minutes=n // 3)}).where(Ticket.id == ticket_id)
        for ticket_id in ids[40:]:
            await Ticket.update({Ticket.sla_due_at: None}).where(Ticket.id == ticket_id)
        await sign_in(client, "p@example.com")
        first = await client.get("/inbox/q/open")
        seen = ticket_ids(first.text)
        assert len(seen) == 50
        link = re.search(r'class="more" href="([^"]+)"', first.text).group(1).replace("&amp;", "&")
        second = await client.get(link)
        seen += ticket_ids(second.text)
        assert sorted(seen) == sorted(ids) and len(seen) == 60
        assert 'class="more"' not in second.text


async def test_filters_by_channel_tag_and_search(desk):
    await make_agent("agent", email="f@example.com")
    async with client_for(desk) as client:
        ids = await _setup(desk, client, 2)
        await post_messages(client, [message("zh", sender="cz", text="请问我的订单什么时候发货？")])
        await TicketTag.insert(TicketTag(ticket=ids[0], tag="vip"))
        await sign_in(client, "f@example.com")
        assert ticket_ids((await client.get("/inbox/q/open?tag=vip")).text) == [ids[0]]
        assert len(ticket_ids((await client.get("/inbox/q/open?channel=api")).text)) == 3
        assert ticket_ids((await client.get("/inbox/q/open?channel=email")).text) == []
        found = await client.get("/inbox/q/open", params={"q": "发货"})
        assert len(ticket_ids(found.text)) == 1 and "请问我的订单" in found.text


async def test_bulk_assign_tag_and_close(desk):
    me, _ = await make_agent("agent", email="b@example.com")
    async with client_for(desk) as client:
        ids = await _setup(desk, client, 3)
        await sign_in(client, "b@example.com")
        r = await form_post(client, "/inbox/bulk", {"ids": [str(ids[0]), str(ids[1])], "action": "assign", "agent": ""})
        assert r.status_code == 200 and "Done for 2 tickets." in r.text
        await form_post(client, "/inbox/bulk", {"ids": [str(ids[1]), str(ids[2])], "action": "tag_add", "tagvalue": "Refund"})
        await form_post(client, "/inbox/bulk", {"ids": [str(ids[2])], "action": "status", "status": "solved"})
    rows = {r["id"]: r for r in await Ticket.select(Ticket.id, Ticket.assignee, Ticket.status)}
    assert [rows[i]["assignee"] for i in ids] == [me, me, None]
    assert rows[ids[2]]["status"] == "solved"
    tags = sorted((r["ticket"], r["tag"]) for r in await TicketTag.select(TicketTag.ticket, TicketTag.tag))
    assert tags == [(ids[1], "refund"), (ids[2], "refund")]
    assert await AuditEntry.count().where(AuditEntry.actor == f"agent:{me}") >= 5


async def test_ticket_view_timeline_across_tickets_escapes_and_edits(desk):
    me, _ = await make_agent("agent", email="t@example.com")
    async with client_for(desk) as client:
        await post_messages(client, [
            msg("a1", "cust", "first ticket", name="Li Lei", thread_id="th-1"),
            msg("a2", "cust", "<script>alert(1)</script> second", thread_id="th-2",
                    html='<p>hi <b>bold</b><script>alert(2)</script><img src=x onerror="alert(3)"></p>'),
        ])
        t1, t2 = [r["id"] for r in await Ticket.select(Ticket.id).order_by(Ticket.id)]
        await sign_in(client, "t@example.com")
        view = await client.get(f"/inbox/t/{t2}")
        assert view.status_code == 200
        assert "first ticket" in view.text  # the other ticket of the same customer is in the timeline
        assert "<b>bold</b>" in view.text  # sanitized HTML is rendered
        assert "<script>alert" not in view.text and "onerror" not in view.text
        assert "Li Lei" in view.text
        r = await form_post(client, f"/inbox/t/{t2}/update", {"status": "pending", "priority": "high",
                                                               "assignee": "me", "add_tag": "Shipping, 物流"},
                            page=f"/inbox/t/{t2}")
        assert r.status_code in (302, 303)
        row = await Ticket.select().where(Ticket.id == t2).first()
        assert (row["status"], row["priority"], row["assignee"]) == ("pending", "high", me)
        assert sorted(r["tag"] for r in await TicketTag.select().where(TicketTag.ticket == t2)) == ["shipping", "物流"]
        # a note and a reply through the reply box
        await form_post(client, f"/inbox/t/{t2}/reply", {"text": "internal: check stock", "kind": "note"}, page=f"/inbox/t/{t2}")
        r = await form_post(client, f"/inbox/t/{t2}/reply", {"text": "We are on it <b>now</b>", "kind": "reply"},
                            page=f"/inbox/t/{t2}", headers={"hx-request": "true"})
        assert r.status_code == 200 and "We are on it &lt;b&gt;now&lt;/b&gt;" in r.text
        kinds = [m["direction"] for m in await Message.select(Message.direction).where(Message.ticket == t2).order_by(Message.id)]
        assert kinds == ["inbound", "note", "outbound"]


async def test_attachment_download_needs_a_session(desk):
    import base64

    await make_agent("readonly", email="att@example.com")
    async with client_for(desk) as client:
        await post_messages(client, [message("f1", text="see file", attachments=[
            {"filename": "x.html", "content_type": "text/html", "data": base64.b64encode(b"<script>1</script>").decode()}])])
        from core.tables import Attachment

        att = await Attachment.select(Attachment.id).first()
        assert (await client.get(f"/inbox/attachments/{att['id']}", follow_redirects=False)).status_code in (302, 303)
        await sign_in(client, "att@example.com")
        r = await client.get(f"/inbox/attachments/{att['id']}")
        assert r.status_code == 200 and r.content == b"<script>1</script>"
        assert r.headers["content-disposition"].startswith("attachment")
        assert r.headers["content-type"].startswith("application/octet-stream")


async def test_macros_admin_search_and_preview_with_real_values(desk):
    await make_agent("admin", email="adm@example.com")
    async with client_for(desk) as client:
        await post_messages(client, [msg("x1", "cw", "where?", name="王芳", order_ids=["SO-42"])])
        ticket = (await Ticket.select(Ticket.id).first())["id"]
        await sign_in(client, "adm@example.com")
        for body in ("Hello {{ customer.name }}, ticket #{{ ticket.id }}", "您好 {{ customer.name }}，工单 {{ ticket.id }}"):
            r = await form_post(client, "/inbox/admin/macros", {
                "name": "Greeting", "shortcut": "hi", "body": body, "language": "zh" if "您好" in body else ""},
                page="/inbox/admin/macros")
            assert r.status_code in (302, 303)
        bad = await form_post(client, "/inbox/admin/macros", {"name": "Bad", "shortcut": "bad", "body": "{% for %}"},
                              page="/inbox/admin/macros")
        assert bad.status_code == 400
        await Ticket.update({Ticket.language: "zh"}).where(Ticket.id == ticket)
        found = await client.get(f"/inbox/t/{ticket}/macros", params={"q": "/hi"})
        macro_id = int(re.search(r"/macros/(\d+)", found.text).group(1))
        zh = await Macro.select(Macro.id).where(Macro.language == "zh").first()
        assert macro_id == zh["id"]  # the Chinese version for a Chinese ticket
        preview = await client.get(f"/inbox/t/{ticket}/macros/{macro_id}")
        assert f"您好 王芳，工单 {ticket}" in preview.text
        # the sandbox refuses to reach Python internals
        evil = await Macro.insert(Macro(name="evil", shortcut="evil", body="{{ ticket.__class__.__mro__ }}")).returning(Macro.id)
        r = await client.get(f"/inbox/t/{ticket}/macros/{evil[0]['id']}")
        assert r.status_code == 400 and "unsafe" in r.text


async def test_merge_duplicate_customers_from_the_panel(desk):
    await make_agent("agent", email="mg@example.com")
    async with client_for(desk) as client:
        await post_messages(client, [msg("d1", "p1", "one", name="Sam Lee"),
                                     msg("d2", "p2", "two", name="Sam Lee")])
        t1, t2 = [r["id"] for r in await Ticket.select(Ticket.id).order_by(Ticket.id)]
        c1, c2 = [r["customer"] for r in await Ticket.select(Ticket.customer).order_by(Ticket.id)]
        await sign_in(client, "mg@example.com")
        view = await client.get(f"/inbox/t/{t1}")
        assert "Possible duplicates" in view.text
        r = await form_post(client, f"/inbox/customers/{c1}/merge", {"source": str(c2), "back": f"/inbox/t/{t1}"},
                            page=f"/inbox/t/{t1}")
        assert r.status_code in (302, 303)
        view = await client.get(f"/inbox/t/{t1}")
        assert "one" in view.text and "two" in view.text  # both tickets in one timeline now
    assert (await Customer.select(Customer.merged_into).where(Customer.id == c2).first())["merged_into"] == c1
    assert (await Ticket.select(Ticket.customer).where(Ticket.id == t2).first())["customer"] == c1
    assert await AuditEntry.count().where((AuditEntry.action == "merge") & (AuditEntry.entity_id == c2)) == 1


class PanelPlugin:
    """A throwaway plugin: an orders panel, the customer's order in the context, a closing window."""

    from core.plugins import hookimpl as _impl

    @_impl
    def customer_context(self, customer, ticket):
        return {"orders": [{"number": "SO-7", "tracking_url": "https://track.example/SO-7"}]}

    @_impl
    def render_panel(self, ticket, customer, context):
        number = context["orders"][0]["number"]
        return {"title": "Orders", "html": f'<p class="order">{number}</p><script>window.bad = 1</script>'}

    @_impl
    def reply_constraints(self, channel_type, account, ticket):
        return {"window_closes_at": clock.now() + timedelta(hours=2), "window_kind": "24h"}


async def test_plugin_panels_context_and_reply_limits_in_the_view(make_desk):
    desk = await make_desk(extra_plugins=[("panel_plugin", PanelPlugin())])
    await make_agent("admin", email="pp@example.com")
    async with client_for(desk) as client:
        await post_messages(client, [message("pp1", text="where is my order")])
        ticket = (await Ticket.select(Ticket.id).first())["id"]
        await Macro.insert(Macro(name="Tracking", shortcut="track",
                                 body="Order {{ orders[0].number }}: {{ context.orders[0].tracking_url }}"))
        await sign_in(client, "pp@example.com")
        view = await client.get(f"/inbox/t/{ticket}")
        assert '<p class="order">SO-7</p>' in view.text and "window.bad" not in view.text
        assert "The messaging window closes" in view.text and "24h" in view.text
        assert 'maxlength="100000"' in view.text  # the API channel's static limit
        macro = (await Macro.select(Macro.id).first())["id"]
        preview = await client.get(f"/inbox/t/{ticket}/macros/{macro}")
        assert "Order SO-7: https://track.example/SO-7" in preview.text


async def test_queue_rows_show_customer_and_assignee_names(desk):
    """A row names its customer (else the customer's email, else #id) and its assignee, in the
    queue and in search results."""
    me, _ = await make_agent("agent", email="names@example.com")
    async with client_for(desk) as client:
        await post_messages(client, [msg("n1", sender="s1", text="parcel one", name="Wang Fang"),
                                     msg("n2", sender="s2", text="parcel two"), msg("n3", sender="s3", text="parcel three")])
        ids = [r["id"] for r in await Ticket.select(Ticket.id).order_by(Ticket.id)]
        customers = [(await Ticket.select(Ticket.customer).where(Ticket.id == i).first())["customer"] for i in ids]
        await Customer.update({Customer.name: None, Customer.email: "two@example.com"}).where(Customer.id == customers[1])
        await Customer.update({Customer.name: None, Customer.email: None}).where(Customer.id == customers[2])
        await Ticket.update({Ticket.assignee: me}).where(Ticket.id == ids[0])
        await sign_in(client, "names@example.com")
        for page in (await client.get("/inbox/q/open"), await client.get("/inbox/q/open", params={"q": "parcel"})):
            rows = {int(i): row for i, row in re.findall(r'data-ticket="(\d+)">(.*?)</li>', page.text, re.S)}
            assert re.search(r'class="who">Wang Fang<', rows[ids[0]]) and "Agent Agent" in rows[ids[0]]
            assert re.search(r'class="who">two@example.com<', rows[ids[1]]) and 'assignee none' in rows[ids[1]]
            assert re.search(rf'class="who">#{customers[2]}<', rows[ids[2]])
