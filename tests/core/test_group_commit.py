"""Group commit: concurrent ingests share transactions, and one bad delivery fails alone."""

from __future__ import annotations

import asyncio

import pytest

from core import inbound
from core.group_commit import GroupCommit
from core.inbound import ingest
from core.plugins import hookimpl
from core.tables import Message, Ticket
from core.types import InboundMessage


def msg(external_id: str, sender: str, text: str = "Hi", **kw) -> InboundMessage:
    return InboundMessage(external_id=external_id, sender_handle=sender, text=text, **kw)


class FailsOnBoom:
    """A third-party classifier that breaks on one message: its failure must stay that message's."""

    @hookimpl
    def classify(self, message, ticket):
        if "boom" in message.text:
            raise RuntimeError("classifier broke on this message")
        return None


async def test_a_burst_of_deliveries_shares_transactions_and_keeps_every_message(desk):
    account = desk.registry.account("api_channel", "main")
    committer = inbound._committer(desk)
    batches_before = committer.batches
    results = await asyncio.gather(*(
        ingest(desk, account, [msg(f"burst-{i}", sender=f"cust-{i % 7}", thread_key=f"t-{i % 7}")])
        for i in range(40)))
    assert [r[0].duplicate for r in results] == [False] * 40
    assert await Message.count() == 40
    assert await Ticket.count() == 7  # one per thread, even when a thread's messages shared a batch
    # 40 callers at once: far fewer transactions than callers
    assert committer.batches - batches_before < 40


async def test_one_failing_delivery_does_not_take_its_batch_down(make_desk):
    desk = await make_desk(extra_plugins=[("fails_on_boom", FailsOnBoom())])
    account = desk.registry.account("api_channel", "main")
    calls = [ingest(desk, account, [msg(f"m-{i}", sender=f"c-{i}", text="boom" if i == 3 else f"hello {i}")])
             for i in range(8)]
    outcomes = await asyncio.gather(*calls, return_exceptions=True)
    failed = [i for i, o in enumerate(outcomes) if isinstance(o, BaseException)]
    assert failed == [3]
    assert "classifier broke" in str(outcomes[3])
    stored = {r["external_id"] for r in await Message.select(Message.external_id)}
    assert stored == {f"m-{i}" for i in range(8) if i != 3}


async def test_the_same_message_twice_in_one_batch_is_stored_once(desk):
    account = desk.registry.account("api_channel", "main")
    first, second = await asyncio.gather(ingest(desk, account, [msg("twin", sender="c")]),
                                         ingest(desk, account, [msg("twin", sender="c")]))
    assert sorted([first[0].duplicate, second[0].duplicate]) == [False, True]
    assert first[0].message_id == second[0].message_id
    assert await Message.count() == 1


async def test_a_caller_that_gives_up_does_not_lose_its_message(desk):
    account = desk.registry.account("api_channel", "main")
    task = asyncio.ensure_future(ingest(desk, account, [msg("left-early", sender="c")]))
    await asyncio.sleep(0)  # queued, and its lane started
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    for _ in range(200):
        if await Message.exists().where(Message.external_id == "left-early"):
            break
        await asyncio.sleep(0.02)
    assert await Message.exists().where(Message.external_id == "left-early")


async def test_nul_characters_are_dropped_instead_of_failing_the_store(desk):
    account = desk.registry.account("api_channel", "main")
    [result] = await ingest(desk, account, [msg("nul\x00id", sender="c\x00d", text="a\x00b", subject="s\x00t",
                                                metadata={"note": "x\x00y"})])
    row = await Message.select(Message.external_id, Message.text, Message.subject).where(
        Message.id == result.message_id).first()
    assert row == {"external_id": "nulid", "text": "ab", "subject": "st"}


async def test_lanes_run_batches_concurrently_and_return_results_in_order():
    running = 0
    most = 0

    async def run_batch(items: list[int]) -> list[int]:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.01)
        running -= 1
        return [i * 10 for i in items]

    committer: GroupCommit[int, int] = GroupCommit(run_batch, lanes=3, max_batch=4)
    results = await asyncio.gather(*(committer.submit(i) for i in range(30)))
    assert results == [i * 10 for i in range(30)]
    assert most == 3
    assert committer.items == 30 and committer.batches < 30


def test_lanes_and_batch_size_must_be_positive():
    with pytest.raises(ValueError, match="at least 1"):
        GroupCommit(lambda items: items, lanes=0)  # type: ignore[arg-type, return-value]
