"""Channel badges in the inbox show the label a channel registered, not its type."""

from __future__ import annotations

import re

from tests.helpers import message, post_messages


async def test_badges_show_the_channels_label(desk, api_client, signed_in_agent):
    stored = await post_messages(api_client, [message("label-1", text="Hello")])
    assert stored.status_code == 200
    ticket_id = stored.json()["messages"][0]["ticket_id"]
    listing = (await signed_in_agent.get("/inbox/q/open")).text
    page = (await signed_in_agent.get(f"/inbox/t/{ticket_id}")).text
    for html in (listing, page):  # the API channel's type is "api", its label "API"
        badges = re.findall(r'<span class="badge ch-api">([^<]*)</span>', html)
        assert badges and set(badges) == {"API"}, badges
