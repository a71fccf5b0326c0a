"""Search stays linear on hostile input (issue 16 item 5): addresses are found without a pattern
that backtracks, a stored 60,000-character word is indexed like any other, and a query longer than
500 characters is refused with a 400."""

from __future__ import annotations

import re

from core import search
from tests.helpers import client_for, make_agent, message, post_messages
from tests.web.inbox_helpers import sign_in


def test_addresses_found_in_runs_and_long_runs_skipped():
    assert search.emails("mail alice@example.com, bob.x+1@mail.co.uk; no@tld x@y.org.") == [
        "alice@example.com", "bob.x+1@mail.co.uk", "x@y.org"]
    assert search.emails("a" * 60_000 + "@example.com") == []  # longer than any address may be
    assert search.emails(("a@" * 30_000)) == []  # no domain after any "@"
    found = search.terms("x" * 60_000 + " 订单 refund")
    assert {"订单", "refund", "x" * search.MAX_TERM} <= found


async def test_long_word_in_a_message_and_capped_query(desk):
    await make_agent("agent", email="s@example.com")
    async with client_for(desk) as client:
        word = "ab" * 30_000  # 60,000 characters, no space
        await post_messages(client, [message("long", sender="c1", text=f"{word}@ {word} parcel tracking"),
                                     message("short", sender="c2", text="parcel lost")])
        await sign_in(client, "s@example.com")
        found = await client.get("/inbox/q/open", params={"q": "tracking parcel"})
        assert found.status_code == 200
        assert len(re.findall(r'class="ticket-row', found.text)) == 1
        longest = ("parcel " * 100)[:500]
        assert (await client.get("/inbox/q/open", params={"q": longest})).status_code == 200
        refused = await client.get("/inbox/q/open", params={"q": longest + "x"})
        assert refused.status_code == 400
        assert "at most 500 characters" in refused.text


async def test_a_long_query_matches_only_tickets_with_every_term(desk):
    """A pasted paragraph: only some of its terms drive the index scan, yet every term must match."""
    words = [f"word{i:02d}x" for i in range(60)]
    async with client_for(desk) as client:
        await post_messages(client, [message("all", sender="c1", text=" ".join(words)),
                                     message("most", sender="c2", text=" ".join(words[:59]))])
    found = await search.search(" ".join(words))
    assert len(found) == 1
    assert len(await search.search(" ".join(words[:59]))) == 2
