"""Search over subjects, message text, customer names, emails, phones and order numbers, Chinese and
Latin, on both databases (the term table with CJK bigrams)."""

from __future__ import annotations

from core import search
from core.inbound import ingest
from core.tables import Customer
from core.types import InboundMessage
from core.merge import merge_customers
from core.visibility import Viewer


def _msg(external_id: str, sender: str, text: str, **kw) -> InboundMessage:
    return InboundMessage(external_id=external_id, sender_handle=sender, text=text, **kw)


async def _ingest(desk, *messages: InboundMessage) -> list[int]:
    account = desk.registry.account("api_channel", "main")
    return [r.ticket_id for r in await ingest(desk, account, list(messages))]


def test_terms_cut_chinese_into_bigrams_and_keep_latin_words():
    found = search.terms("我的订单还没到 Order #A-1001, mail alice@example.com")
    assert {"我的", "的订", "订单", "单还", "还没", "没到"} <= found
    assert {"order", "1001", "alice@example.com", "mail"} <= found
    assert "我" not in found  # single characters of longer runs are not stored


async def test_search_finds_chinese_latin_email_phone_and_order(desk):
    t1, t2, t3 = await _ingest(
        desk,
        _msg("s1", "c1", "你好，我的包裹还没有收到，请帮忙查一下物流", sender_name="王小明", subject="物流查询"),
        _msg("s2", "c2", "The zipper on my jacket broke after two days", sender_name="Alice Smith",
             sender_email="alice@example.com", sender_phone="+86 138 0013 8000", order_ids=["A-1001-77"]),
        _msg("s3", "c3", "退款申请：订单号 100200300", sender_name="李雷"),
    )
    assert await search.search("包裹") == [t1]
    assert await search.search("物流 查询") == [t1]
    assert await search.search("王小明") == [t1]
    assert await search.search("zipper jacket") == [t2]
    assert await search.search("ZIPPER") == [t2]
    assert await search.search("alice@example.com") == [t2]
    assert await search.search("Alice") == [t2]
    assert await search.search("13800138000") == [t2]  # without the country code
    assert await search.search("A-1001-77") == [t2]  # the order number from the message's metadata
    assert await search.search("100200300") == [t3]
    assert await search.search("退款") == [t3]
    assert await search.search("退") == [t3]  # one character: prefix of the bigrams
    assert await search.search("包裹 zipper") == []  # every term must match
    assert await search.search("nothing-like-this") == []
    assert await search.search("   ") == []


async def test_index_catches_up_incrementally_and_is_idempotent(desk):
    (t1,) = await _ingest(desk, _msg("i1", "c1", "first message about 发票"))
    assert await search.search("发票") == [t1]
    before = await search.indexed_pairs()
    assert before > 0
    assert await search.catch_up() == 0  # nothing new
    assert await search.indexed_pairs() == before
    (t2,) = await _ingest(desk, _msg("i2", "c9", "second 发票 question"))
    assert sorted(await search.search("发票")) == sorted([t1, t2])


async def test_merged_customer_is_found_by_the_other_name(desk):
    t1, t2 = await _ingest(desk, _msg("m1", "a", "hello", sender_name="Zhang Wei"),
                           _msg("m2", "b", "hi again", sender_name="张伟"))
    await search.catch_up()
    c1 = (await Customer.select(Customer.id).where(Customer.name == "Zhang Wei").first())["id"]
    c2 = (await Customer.select(Customer.id).where(Customer.name == "张伟").first())["id"]
    await merge_customers(c2, c1, actor="test")
    assert sorted(await search.search("张伟")) == sorted([t1, t2])


async def test_common_terms_walk_the_newest_tickets(desk, monkeypatch):
    """When every term is common the search reads the newest tickets in steps; same answers."""
    ids = await _ingest(desk, *[_msg(f"c{i}", f"s{i}", f"物流 问题 number {i}") for i in range(7)],
                        _msg("other", "sx", "完全无关 unrelated"))
    await search.catch_up()
    expected = await search.search("物流 问题")
    assert sorted(expected) == sorted(ids[:7])
    monkeypatch.setattr(search, "CANDIDATE_CAP", 1)
    monkeypatch.setattr(search, "FIRST_CHUNK", 2)
    assert await search.search("物流 问题") == expected  # newest first either way
    assert await search.search("物流 问题", limit=3) == expected[:3]
    assert await search.search("物 unrelated") == []
    assert await search.search("完 unrelated") == [ids[7]]


async def test_postgres_converts_the_term_table_of_older_desks(desk):
    """Migration core_0010 moves a PostgreSQL desk's (term, ticket) rows to one GIN row per ticket."""
    import importlib

    import pytest

    from core import db

    if db.is_sqlite():
        pytest.skip("SQLite keeps the term table")
    convert = importlib.import_module("migrations.core.core_0010_search_docs")
    (ticket,) = await _ingest(desk, _msg("old", "o1", "旧的索引 conversion", sender_name="赵六"))
    await search.catch_up()
    # the index as a desk before core_0010 had it
    await db.fetch("DELETE FROM search_docs")
    await db.fetch("DELETE FROM search_vocab")
    for term in search.terms("旧的索引 conversion 赵六"):
        await db.fetch("INSERT INTO search_terms (term, ticket) VALUES ({}, {})", term, ticket)
    assert await search.search("conversion") == []
    for statement in convert.STATEMENTS:
        await db.engine().run_ddl(statement)
    assert await search.search("conversion") == [ticket]
    assert await search.search("索引") == [ticket]
    assert await search.search("赵") == [ticket]  # one character: through the vocabulary
    assert (await db.fetch("SELECT COUNT(*) AS n FROM search_terms"))[0]["n"] == 0


async def test_every_plan_gives_the_same_newest_matches(desk, monkeypatch):
    """The probe of the newest tickets, the walk it may continue, and the index scan it may fall
    back to all answer with the newest matching tickets: whatever the chunk sizes and budgets."""
    texts = ["蓝牙耳机 破损" if i % 3 == 0 else ("蓝牙耳机 很好" if i % 3 == 1 else "别的 问题") for i in range(14)]
    ids = await _ingest(desk, *[_msg(f"p{i}", f"ps{i}", text) for i, text in enumerate(texts)])
    await search.catch_up()
    full = await search.search("蓝牙 破损", limit=50)
    assert sorted(full) == sorted(ids[i] for i in range(14) if i % 3 == 0)
    both = await search.search("蓝牙耳机", limit=50)
    assert sorted(both) == sorted(ids[i] for i in range(14) if i % 3 != 2)
    for first_chunk in (1, 2, 3, 100):
        for budget in (1, 2, 1000):
            for cap in (1, 3000):
                monkeypatch.setattr(search, "FIRST_CHUNK", first_chunk)
                monkeypatch.setattr(search, "WALK_BUDGET", budget)
                monkeypatch.setattr(search, "CANDIDATE_CAP", cap)
                for limit in (1, 2, 3, 50):
                    assert await search.search("蓝牙 破损", limit=limit) == full[:limit], (first_chunk, budget, cap)
                assert await search.search("蓝牙耳机", limit=4) == both[:4], (first_chunk, budget, cap)


async def test_postgres_keeps_the_gin_pending_list_short(desk):
    """Migration core_0011: every search reads the GIN pending list whole, so it is kept at 256 kB."""
    import pytest

    from core import db

    if db.is_sqlite():
        pytest.skip("SQLite keeps the term table")
    rows = await db.fetch("SELECT reloptions FROM pg_class WHERE relname = 'search_docs_terms'")
    assert "gin_pending_list_limit=256" in (rows[0]["reloptions"] or [])


async def test_a_pasted_paragraph_is_driven_by_its_rarest_terms(desk, monkeypatch):
    """PostgreSQL: a query of many terms scans the GIN lists of only its rarest few, chosen from the
    database's own statistics (core/search_stats.py), and checks every term on what they yield; the
    answer is the same as with any other choice of driving terms, or none."""
    import pytest

    from core import db, search_stats

    if db.is_sqlite():
        pytest.skip("SQLite keeps the term table")
    common = "您好 我的包裹 显示已经签收 但是我没有收到 请帮我查一下物流 谢谢"
    texts = [f"{common} 编号{i}" for i in range(30)] + [f"{common} 紫罗兰 编号{i}" for i in range(3)] + \
            [f"您好 别的问题 {i}" for i in range(20)]
    ids = await _ingest(desk, *[_msg(f"para{i}", f"pa{i}", text) for i, text in enumerate(texts)])
    await search.catch_up()
    await db.fetch("ANALYZE search_docs")
    monkeypatch.setattr(search_stats, "_stats", search_stats.TermStats())
    paragraph = f"{common} 紫罗兰"
    exact, _ = search.query_terms(paragraph)
    stats = await search_stats.current()
    assert stats.frequencies and stats.tickets >= len(texts)
    driving = await search_stats.driving_terms(exact, search.GIN_TERMS)
    assert driving[0] in ("紫罗", "罗兰") and len(driving) < len(exact), driving
    wanted = sorted(ids[30:33])
    assert sorted(await search.search(paragraph)) == wanted
    monkeypatch.setattr(search, "FIRST_CHUNK", 1)  # the probe finds nothing: the index scan answers
    monkeypatch.setattr(search, "WALK_BUDGET", 1)
    assert sorted(await search.search(paragraph)) == wanted
    for most in (1, 2, 24):
        monkeypatch.setattr(search, "GIN_TERMS", most)
        assert sorted(await search.search(paragraph)) == wanted, most
    monkeypatch.setattr(search_stats, "_stats", search_stats.TermStats(read_at=float("inf")))  # no statistics
    assert sorted(await search.search(paragraph)) == wanted
    assert await search.search(f"{common} 不存在的词") == []
async def test_every_plan_pages_a_filtered_search_the_same(desk, monkeypatch):
    """A filter (core.ticket_filter.where) and a keyset start (`after`) go into every plan: paging
    a filtered search one ticket at a time yields the filtered matches, newest first, whatever the
    chunk sizes, budgets and candidate cap."""
    from datetime import datetime, timedelta, timezone

    from core import ticket_filter
    from core.tables import Ticket

    texts = ["蓝牙耳机 破损" if i % 2 == 0 else "蓝牙耳机 很好" for i in range(12)]
    ids = await _ingest(desk, *[_msg(f"f{i}", f"fs{i}", text) for i, text in enumerate(texts)])
    start = datetime(2026, 11, 11, tzinfo=timezone.utc)
    for n, ticket in enumerate(ids):  # distinct activity times, two of them equal to test the tie on id
        await Ticket.update({Ticket.last_message_at: start + timedelta(minutes=n // 2 * 2 + (n == 5)),
                             Ticket.priority: "high" if n % 3 else "normal"}).where(Ticket.id == ticket)
    await search.catch_up()
    high = ticket_filter.where(ticket_filter.parse({"priority": "high"}), {"id": 1}, start, seen=Viewer(1))
    rows = {r["id"]: r for r in await Ticket.select(Ticket.id, Ticket.last_message_at, Ticket.priority)}
    expected = sorted((i for i in ids if rows[i]["priority"] == "high"),
                      key=lambda i: (rows[i]["last_message_at"], i), reverse=True)
    assert len(expected) == 8
    for first_chunk in (1, 3, 100):
        for budget in (1, 1000):
            for cap in (1, 3000):
                monkeypatch.setattr(search, "FIRST_CHUNK", first_chunk)
                monkeypatch.setattr(search, "WALK_BUDGET", budget)
                monkeypatch.setattr(search, "CANDIDATE_CAP", cap)
                for size in (1, 3):
                    seen: list[int] = []
                    after = None
                    while True:
                        page = await search.search("蓝牙耳机", limit=size, where=high, after=after)
                        seen += page
                        if len(page) < size:
                            break
                        after = (rows[page[-1]]["last_message_at"], page[-1])
                    assert seen == expected, (first_chunk, budget, cap, size)
