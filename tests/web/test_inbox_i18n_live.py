"""Catalogs cover every UI string; times show in the agent's zone; live events and presence."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

from babel.messages.pofile import read_po

from core.tables import Agent, Ticket, TicketViewer
from tests.helpers import client_for, make_agent, message, post_messages
from tests.web.inbox_helpers import form_post, sign_in
from web import i18n

WEB = Path(__file__).resolve().parents[2] / "web"


def test_every_ui_string_has_a_chinese_translation(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", str(WEB / "babel.cfg"),
                    "-k", "gettext_", "-o", str(pot), "--no-location", str(WEB / "inbox"), str(WEB / "templates"),
                    str(WEB / "i18n.py"), str(WEB / "sessions.py"), str(WEB / "api" / "admin.py"),
                    str(WEB / "people_mail.py"),
                    # the core's refusals, marked with N_, shown in the inbox in the agent's language
                    *(str(WEB.parent / "core" / name) for name in ("rules.py", "sla.py", "notifications.py", "people.py",
                                                                   "spam.py", "reply_templates.py"))],
                   check=True, capture_output=True)
    wanted = {m.id for m in read_po(pot.open("rb")) if m.id}
    assert len(wanted) > 80
    with (WEB / "translations/zh_Hans/LC_MESSAGES/messages.po").open("rb") as handle:
        zh = {m.id: m.string for m in read_po(handle) if m.id}
    missing = sorted(m for m in wanted if not zh.get(m))
    assert missing == [], f"untranslated in zh_Hans: {missing}"


def test_every_msgid_in_the_chinese_catalog_has_a_translation():
    """No entry of zh_Hans is left empty (an empty msgstr silently shows English)."""
    with (WEB / "translations/zh_Hans/LC_MESSAGES/messages.po").open("rb") as handle:
        catalog = read_po(handle)
    empty = sorted(m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id and not m.string)
    assert len(catalog) > 80 and empty == [], f"empty msgstr in zh_Hans: {empty}"


def test_translate_error_uses_the_template_and_keeps_the_params():
    from core.errors import N_, Invalid

    exc = Invalid(N_("{where}.url: {url} is not an http(s) URL"), where="actions[2].webhook", url="'ftp://x'")
    assert str(exc) == "actions[2].webhook.url: 'ftp://x' is not an http(s) URL" and isinstance(exc, ValueError)
    token = i18n.current_language.set("zh")
    try:
        assert i18n.translate_error(exc) == "actions[2].webhook.url：'ftp://x' 不是 http(s) 网址"
        untranslated = Invalid(N_("{what} is not in any catalog"), what="x")
        assert i18n.translate_error(untranslated) == "x is not in any catalog"
        assert i18n.translate_error(ValueError("plain")) == "plain"
    finally:
        i18n.current_language.reset(token)
    assert i18n.translate_error(exc) == str(exc)


def test_times_in_the_agents_zone_and_language():
    moment = datetime(2026, 3, 1, 23, 30, tzinfo=timezone.utc)
    i18n.current_language.set("zh")
    i18n.current_timezone.set("Asia/Shanghai")
    assert "07:30" in i18n.format_time(moment) and "2026" in i18n.format_time(moment)
    i18n.current_language.set("en")
    i18n.current_timezone.set("America/New_York")
    text = i18n.format_time(moment)
    assert "6:30" in text and "PM" in text
    i18n.current_timezone.set("UTC")


async def test_ticket_page_shows_times_in_agent_timezone(desk):
    agent_id, _ = await make_agent("agent", email="tz@example.com")
    await Agent.update({Agent.timezone: "Asia/Shanghai", Agent.locale: "zh"}).where(Agent.id == agent_id)
    async with client_for(desk) as client:
        await post_messages(client, [message("t1", text="hi", sent_at="2026-03-01T23:30:00Z")])
        ticket = (await Ticket.select(Ticket.id).first())["id"]
        await sign_in(client, "tz@example.com")
        page = await client.get(f"/inbox/t/{ticket}")
        assert "2026/3/2 07:30" in page.text  # 23:30 UTC is 07:30 the next day in Shanghai
        assert "内部备注" in page.text


async def test_presence_shows_who_views_and_who_types(desk):
    await make_agent("agent", email="v1@example.com")
    await make_agent("agent", email="v2@example.com")
    heard: list[dict] = []
    queue = desk.live.subscribe()
    async with client_for(desk) as first, client_for(desk) as second:
        await post_messages(first, [message("p1", text="hello")])
        ticket = (await Ticket.select(Ticket.id).first())["id"]
        await sign_in(first, "v1@example.com")
        await sign_in(second, "v2@example.com")
        await form_post(first, f"/inbox/t/{ticket}/presence", {"typing": "1"}, page=f"/inbox/t/{ticket}")
        seen = await form_post(second, f"/inbox/t/{ticket}/presence", {}, page=f"/inbox/t/{ticket}")
        assert "is typing a reply" in seen.text
        # a second heartbeat that changes nothing tells nobody
        while not queue.empty():
            heard.append(queue.get_nowait())
        await form_post(second, f"/inbox/t/{ticket}/presence", {}, page=f"/inbox/t/{ticket}")
        assert queue.empty()
    names = [e["name"] for e in heard]
    assert names.count("presence") == 2
    assert await TicketViewer.count().where(TicketViewer.ticket == ticket) == 2




async def test_a_notification_reaches_its_agents_open_pages_at_once(desk):
    """A rule's notification is a live event naming its recipients; only their streams turn it
    into an SSE `notifications` event, which refreshes the header's badge."""
    from core import notifications
    from tests.helpers import auth
    from web.inbox.live import _messages

    admin, token = await make_agent("admin", email="boss@example.com")
    bo, _ = await make_agent("agent", email="bo@example.com")
    heard = desk.live.subscribe()
    async with client_for(desk) as client:
        rule = await client.post("/api/v1/admin/rules", headers=auth(token), json={
            "name": "tell Bo", "event": "created", "conditions": {}, "actions": [{"notify": {"to": f"agent:{bo}"}}]})
        assert rule.status_code in (200, 201), rule.text
        await post_messages(client, [message("n1", text="where is my parcel?")])
        await sign_in(client, "bo@example.com")
        badge = await client.get("/inbox/notifications/badge")
    events = []
    while not heard.empty():
        events.append(heard.get_nowait())
    [event] = [e for e in events if e["name"] == notifications.LIVE_EVENT]
    assert event["data"]["agents"] == [bo]
    assert [m.data for m in _messages(event, bo)] == ["notifications"]
    assert _messages(event, admin) == []  # nobody else hears of it
    assert badge.status_code == 200 and 'id="notifications-badge"' in badge.text
    assert '<span class="count">1</span>' in badge.text and 'hx-trigger="live-notifications from:body' in badge.text


async def test_a_claim_pool_alert_reads_in_the_agents_language(desk):
    """System notifications keep their template's params: the page renders the template in the
    reader's language; the stored text (what the API and the logs read) stays English."""
    from core import notifications

    li, _ = await make_agent("agent", email="li@example.com")
    await Agent.update({Agent.locale: "zh"}).where(Agent.id == li)
    params = {"ticket": 7, "subject": "退货申请", "minutes": 31, "team": "售后"}
    text = notifications.TEMPLATES["pool_alert"].format(**params)
    await notifications.notify({"agent": li}, text, ticket_id=7, kind="pool_alert", params=params)
    await notifications.notify({"agent": li}, "Rule text as the admin wrote it", kind="rule")
    async with client_for(desk) as client:
        await sign_in(client, "li@example.com")
        page = await client.get("/inbox/notifications")
    assert "工单 #7（退货申请）已在团队 售后 的认领池中等待 31 分钟" in page.text
    assert "Rule text as the admin wrote it" in page.text
    assert text == "Ticket #7 (退货申请) has waited 31 min in the claim pool of team 售后"


def test_relative_times_match_babel_in_both_languages():
    """web.i18n.format_relative keeps babel's text per (direction, unit, count): the same words as
    babel's format_timedelta for every distance, in English and Chinese."""
    import random
    from datetime import datetime, timedelta, timezone

    from babel.dates import TIMEDELTA_UNITS, format_timedelta

    from web import i18n

    assert tuple(TIMEDELTA_UNITS) == i18n._UNITS  # the units the cache key follows are babel's
    now = datetime(2026, 12, 2, tzinfo=timezone.utc)
    rng = random.Random(5)
    seconds = [0, 0.4, 0.6, 1.5, 59, 65, 66, 3960, 3961, -0.3, -66, -3960] + [rng.uniform(-4e7, 4e7) for _ in range(3000)]
    for language in ("en", "zh"):
        token = i18n.current_language.set(language)
        try:
            for value in seconds:
                moment = now + timedelta(seconds=value)
                assert i18n.format_relative(moment, now) == format_timedelta(
                    moment - now, add_direction=True, threshold=1.1, format="narrow", locale=i18n.babel_locale())
        finally:
            i18n.current_language.reset(token)
