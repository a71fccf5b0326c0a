"""Remote images in customers' HTML do not load in the agent's browser: a placeholder and a notice
until the agent asks, then the desk's own proxy fetches them (no cookies, no referrer, the outbound
URL guard, size and type capped). Protocol-relative and relative links are dropped."""

from __future__ import annotations

import re

from tests.conftest import allow_loopback
from tests.helpers import client_for, make_agent, message, post_messages
from tests.loopback import Scripted
from tests.web.inbox_helpers import sign_in

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d4944415478da63f8ffff3f0005fe02fea7d6a5a40000000049454e44ae426082")


async def _ticket_with_html(client, html: str) -> tuple[int, int]:
    body = (await post_messages(client, [message("h1", text="see html", html=html)])).json()["messages"][0]
    return body["ticket_id"], body["message_id"]


async def test_remote_images_are_hidden_until_shown_and_odd_links_dropped(make_desk, receiver):
    desk = await make_desk(allow_loopback)
    receiver.default = Scripted(status=200, body=PNG, headers={"content-type": "image/png"})
    pixel = f"{receiver.url}/pixel.png?who=agent"
    html = (f'<p>Hi <img src="{pixel}" alt="logo"> <img src=" //{receiver.url[7:]}/second.png">'
            '<a href="//evil.example/phish">click</a> <a href="/inbox/admin/rules">here</a>'
            ' <a href="https://shop.example/order/1">order</a></p>')
    await make_agent("agent", email="im@example.com")
    async with client_for(desk) as client:
        ticket, message_id = await _ticket_with_html(client, html)
        await sign_in(client, "im@example.com")
        page = (await client.get(f"/inbox/t/{ticket}")).text
        assert receiver.url not in page and "evil.example" not in page and 'href="/inbox/admin/rules"' not in page
        assert page.count('src="/static/remote-image.svg"') == 1  # the protocol-relative one was dropped on the way in
        assert "Remote images in this message are hidden" in page and "Show images" in page
        assert 'href="https://shop.example/order/1"' in page
        assert receiver.requests == []

        shown = (await client.get(f"/inbox/messages/{message_id}/body", params={"images": "true"})).text
        sources = re.findall(r'<img src="([^"]+)"', shown)
        assert sources == [f"/inbox/messages/{message_id}/images/0"]
        assert "Show images" not in shown and receiver.url not in shown

        image = await client.get(sources[0], headers={"referer": f"http://testserver/inbox/t/{ticket}"})
        assert image.status_code == 200 and image.content == PNG
        assert image.headers["content-type"] == "image/png" and image.headers["x-content-type-options"] == "nosniff"
        assert image.headers["referrer-policy"] == "no-referrer"
        arrived = receiver.requests[-1]
        assert arrived.path == "/pixel.png?who=agent"
        assert "cookie" not in arrived.headers and "referer" not in arrived.headers
        assert (await client.get(f"/inbox/messages/{message_id}/images/1")).status_code == 404
        # the page itself can show one message's images (the action without htmx)
        assert f"/inbox/messages/{message_id}/images/0" in (await client.get(f"/inbox/t/{ticket}?images={message_id}")).text


async def test_the_proxy_refuses_loopback_without_the_allow_list_and_caps_type_and_size(make_desk, receiver):
    desk = await make_desk()  # no outbound_allowlist
    await make_agent("agent", email="ip@example.com")
    async with client_for(desk) as client:
        _, message_id = await _ticket_with_html(client, f'<img src="{receiver.url}/a.png"><img src="{receiver.url}/b">'
                                                        f'<img src="{receiver.url}/c">')
        await sign_in(client, "ip@example.com")
        refused = await client.get(f"/inbox/messages/{message_id}/images/0")
        assert refused.status_code == 403 and "loopback" in refused.text
        assert receiver.requests == []
    desk = await make_desk(allow_loopback)
    async with client_for(desk) as client:
        await sign_in(client, "ip@example.com")
        receiver.script = [Scripted(status=200, body=b"<svg onload=alert(1)>", headers={"content-type": "image/svg+xml"}),
                           Scripted(status=200, body=b"x" * (5 * 1024 * 1024 + 1), headers={"content-type": "image/png"})]
        svg = await client.get(f"/inbox/messages/{message_id}/images/1")
        assert svg.status_code == 415 and svg.headers["content-type"].startswith("text/plain")
        big = await client.get(f"/inbox/messages/{message_id}/images/2")
        assert big.status_code == 413


def test_html_stored_before_the_sanitizer_dropped_odd_links_is_cleaned_when_shown():
    from web.inbox.images import remote_images, render

    legacy = ('<img src="//cdn.example/p.gif"><img src="\\\\cdn.example\\q.gif"><img src="HTTPS://A.example/r.gif">'
              '<img src="cid:logo"><img src="/local.png"><a href="//evil.example/x">x</a><a href="mailto:a@b.example">m</a>')
    html, count = render(legacy, 7)
    assert count == 3 and html.count('src="/static/remote-image.svg"') == 3
    assert "cdn.example" not in html and "evil.example" not in html and "local.png" not in html
    assert 'src="cid:logo"' in html and 'href="mailto:a@b.example"' in html
    assert remote_images(legacy) == ["https://cdn.example/p.gif", "https://cdn.example/q.gif", "HTTPS://A.example/r.gif"]
    shown, _ = render(legacy, 7, show=True)
    assert '<img src="/inbox/messages/7/images/2">' in shown
