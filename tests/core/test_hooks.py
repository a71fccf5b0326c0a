"""One test per hook whose behaviour is not already covered where it is used
(classify, sla_targets, route, ticket_event: test_inbound.py; send_message: test_outbound.py;
parse_webhook: web/test_webhooks.py)."""

from __future__ import annotations

from pathlib import Path

import click
import msgspec
import pytest
from click.testing import CliRunner

from core.config import settings_from_dict
from core.context import customer_context, panels, reply_constraints
from core.errors import ChannelError, ConfigError
from core.inbound import ingest
from core.plugins import hookimpl, load_registry
from core.polling import poll_account
from core.tables import ChannelAccount, Message, Ticket
from core.types import ChannelLimits, ChannelType, InboundAttachment, InboundMessage, JobSpec
from tests.conftest import wait_for
from tests.helpers import auth, client_for, make_agent

SAMPLE_MIGRATIONS = str(Path(__file__).parent / "sample_migrations")


class PolledSettings(msgspec.Struct):
    label: str = "polled"


class PolledChannel:
    """A throwaway polled channel: three messages behind a cursor; fails once after the first batch."""

    def __init__(self) -> None:
        self.calls: list[str | None] = []

    @hookimpl
    def register_channels(self, register):
        register(ChannelType(name="polled", label="Polled", account_settings=PolledSettings,
                             limits=ChannelLimits(max_text_length=500, reply_window_seconds=86400)))

    @hookimpl
    def poll(self, channel_type, account, cursor):
        if channel_type != "polled":
            return None

        async def fetch():
            self.calls.append(cursor)
            start = int(cursor or 0)
            batch = [InboundMessage(external_id=f"p{i}", sender_handle="poller", text=f"n{i}") for i in range(start, min(start + 2, 3))]
            return batch, str(start + len(batch))
        return fetch()


def polled_config(config):
    config["plugins"]["polled"] = {"accounts": {"main": {}}}


async def test_hook_register_channels_and_poll(make_desk):
    channel = PolledChannel()
    desk = await make_desk(polled_config, extra_plugins=[("polled", channel)], run_jobs=False)
    account = desk.registry.account("polled", "main")
    assert desk.registry.channels["polled"].plugin == "polled" and account.settings.label == "polled"
    assert await poll_account(desk, account) == 2
    assert await poll_account(desk, account) == 1
    assert await poll_account(desk, account) == 0
    assert channel.calls == [None, "2", "3"]
    row = await ChannelAccount.select(ChannelAccount.poll_cursor).where(ChannelAccount.id == account.id).first()
    assert row["poll_cursor"] == "3" and await Message.count() == 3
    # the API channel is not polled: its poll answers None and nothing happens
    assert await poll_account(desk, desk.registry.account("api_channel", "main")) is None


async def test_a_platform_refusing_connections_is_the_accounts_failure_not_a_database_outage(make_desk, caplog):
    """poll_all_job: a platform that refuses the connection (ConnectionRefusedError, which is also
    what asyncpg raises for a database that is down) is logged against its account and the other
    accounts are still polled; only when the desk's own database does not answer does the job give
    up, so that the periodic job logs one outage line instead of a traceback per account."""
    from core.polling import poll_all_job

    class Refusing(PolledChannel):
        @hookimpl
        def poll(self, channel_type, account, cursor):
            async def fetch():
                raise ConnectionRefusedError(111, "Connect call failed ('203.0.113.9', 993)")
            return fetch() if channel_type == "polled" else None

    def two_accounts(config):
        config["plugins"]["polled"] = {"accounts": {"main": {}}}

    desk = await make_desk(two_accounts, extra_plugins=[("polled", Refusing())], run_jobs=False)
    with caplog.at_level("ERROR", logger="relaydesk.polling"):
        assert await poll_all_job({"desk": desk}) == 0
    assert any("polling polled/main failed" in r.getMessage() for r in caplog.records)


async def test_hook_poll_cursor_is_kept_when_storing_fails(make_desk):
    class Broken(PolledChannel):
        @hookimpl
        def poll(self, channel_type, account, cursor):
            async def fetch():
                # the second message cannot be stored (its attachment has no bytes), so the batch fails
                good = InboundMessage(external_id="ok", sender_handle="c", text="fine")
                bad = InboundMessage(external_id="bad", sender_handle="c", text="x",
                                     attachments=[InboundAttachment(filename="a", content_type="x", data=None)])
                return [good, bad], "99"
            return fetch() if channel_type == "polled" else None

    desk = await make_desk(polled_config, extra_plugins=[("polled", Broken())], run_jobs=False)
    account = desk.registry.account("polled", "main")
    await ChannelAccount.update({ChannelAccount.poll_cursor: "5"}).where(ChannelAccount.id == account.id)
    with pytest.raises(TypeError):
        await poll_account(desk, account)
    assert await Message.count() == 0  # the whole batch rolled back...
    row = await ChannelAccount.select(ChannelAccount.poll_cursor).where(ChannelAccount.id == account.id).first()
    assert row["poll_cursor"] == "5"  # ...and the cursor did not move, so the next poll fetches it again


async def test_hook_register_jobs(make_desk):
    ran = []

    class Jobs:
        @hookimpl
        def register_jobs(self, register):
            async def remember(ctx, value):
                ran.append((value, ctx["desk"] is desk_box[0]))
            register(JobSpec(name="remember", func=remember))

    desk_box = []
    desk = await make_desk(extra_plugins=[("jobs", Jobs())])
    desk_box.append(desk)
    assert await desk.enqueue("remember", 42, job_id="remember:42")
    await wait_for(lambda: ran)
    assert ran == [(42, True)]


async def test_hook_register_routes(make_desk):
    from litestar import get

    from tests.helpers import client_for

    @get("/plugin-hello", sync_to_thread=False)
    def hello() -> dict:
        return {"hello": "from a plugin"}

    class Routes:
        @hookimpl
        def register_routes(self, register):
            register(hello)

    desk = await make_desk(extra_plugins=[("routes", Routes())])
    async with client_for(desk) as client:
        assert (await client.get("/plugin-hello")).json() == {"hello": "from a plugin"}


async def test_hook_register_settings():
    class Tunable:
        class Settings(msgspec.Struct, forbid_unknown_fields=True):
            threshold: int = 3

        @hookimpl
        def register_settings(self, register):
            register("tunable", self.Settings)

    good = settings_from_dict({"plugins": {"enabled": [], "tunable": {"threshold": 7}}}, "p.toml")
    registry = load_registry(good, extra_plugins=[("tunable", Tunable())])
    assert registry.plugin_settings["tunable"].threshold == 7
    bad = settings_from_dict({"plugins": {"enabled": [], "tunable": {"threshold": "many"}}}, "p.toml")
    with pytest.raises(ConfigError) as info:
        load_registry(bad, extra_plugins=[("tunable", Tunable())])
    assert info.value.key == "plugins.tunable.threshold"


async def test_hook_register_migrations(db_url):
    from core import db
    from core.migrate import migrate

    class WithTables:
        @hookimpl
        def register_migrations(self, register):
            register("sample", SAMPLE_MIGRATIONS)

    registry = load_registry(settings_from_dict({"plugins": {"enabled": []}}, "p.toml"),
                             extra_plugins=[("sample", WithTables())])
    assert registry.migrations == [("sample", SAMPLE_MIGRATIONS)]
    await db.connect(db_url)
    try:
        await migrate(registry.migrations)
        assert await migrate(registry.migrations) == 0
        rows = await db.fetch("SELECT COUNT(*) AS n FROM sample_notes")
        assert rows[0]["n"] == 0
    finally:
        await db.engine().run_ddl("DROP TABLE IF EXISTS sample_notes")
        await db.engine().run_ddl("DELETE FROM migration WHERE app_name = 'sample'")
        await db.disconnect()


def test_hook_register_commands(tmp_path, monkeypatch):
    """A third-party plugin, installed as a distribution with an entry point in the group "relaydesk",
    adds a CLI command when plugins.toml enables it."""
    import importlib
    import sys

    from core.cli import main

    site = tmp_path / "site"
    (site / "hello_plugin").mkdir(parents=True)
    (site / "hello_plugin" / "__init__.py").write_text(
        "import click\n"
        "from pluggy import HookimplMarker\n"
        "hookimpl = HookimplMarker('relaydesk')\n"
        "@hookimpl\n"
        "def register_commands(register):\n"
        "    @click.command('hello')\n"
        "    def hello():\n"
        "        click.echo('hello from a plugin command')\n"
        "    register(hello)\n")
    dist = site / "hello_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: hello-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[relaydesk]\nhello = hello_plugin\n")
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "plugins.toml"
    config.write_text('[relaydesk]\ndatabase = "sqlite:///x.db"\n[plugins]\nenabled = ["hello"]\n')
    monkeypatch.setattr(sys, "argv", ["relaydesk", "hello"])
    result = CliRunner().invoke(main, ["hello"])
    assert result.exit_code == 0, result.output
    assert "hello from a plugin command" in result.output
    # not enabled: the command does not exist
    config.write_text('[relaydesk]\ndatabase = "sqlite:///x.db"\n[plugins]\nenabled = []\n')
    assert CliRunner().invoke(main, ["hello"]).exit_code != 0


async def test_hook_customer_context(make_desk):
    class Orders:
        @hookimpl
        def customer_context(self, customer, ticket):
            async def load():
                return {"orders": [{"name": "#1001", "customer": customer["id"]}]}
            return load()

        @hookimpl
        def render_panel(self, ticket, customer, context):
            return {"title": "Orders", "html": f"<p>{len(context['orders'])} order(s)</p>"}

    class Broken:
        @hookimpl
        def customer_context(self, customer, ticket):
            raise RuntimeError("a broken plugin is left out")

    desk = await make_desk(extra_plugins=[("orders", Orders()), ("broken", Broken())])
    context = await customer_context(desk, {"id": 7}, None)
    assert context == {"orders": [{"name": "#1001", "customer": 7}]}
    return desk, context


async def test_hook_render_panel(make_desk):
    desk, context = await test_hook_customer_context(make_desk)
    assert await panels(desk, {"id": 1}, {"id": 7}, context) == [
        {"plugin": "orders", "title": "Orders", "html": "<p>1 order(s)</p>"}]


async def test_hook_render_panel_is_given_the_viewing_agent_when_it_asks(make_desk):
    class Roles:
        @hookimpl
        def render_panel(self, ticket, customer, context, agent):
            return {"title": "Actions", "html": "<p>refund</p>" if agent and agent["role"] == "admin" else "<p>-</p>"}

    class Old:  # an implementation without the argument still works
        @hookimpl
        def render_panel(self, context):
            return {"title": "Old", "html": "<p>old</p>"}

    desk = await make_desk(extra_plugins=[("roles", Roles()), ("old", Old())])
    as_admin = {p["plugin"]: p["html"] for p in await panels(desk, {"id": 1}, {"id": 7}, {}, {"id": 1, "role": "admin"})}
    as_reader = {p["plugin"]: p["html"] for p in await panels(desk, {"id": 1}, {"id": 7}, {}, {"id": 2, "role": "readonly"})}
    assert as_admin == {"roles": "<p>refund</p>", "old": "<p>old</p>"}
    assert as_reader["roles"] == "<p>-</p>" and as_reader["old"] == "<p>old</p>"


async def test_hook_reply_constraints(make_desk):
    from datetime import timedelta

    channel = PolledChannel()

    class Window:
        @hookimpl
        def reply_constraints(self, channel_type, account, ticket):
            if channel_type != "polled":
                return None
            return {"window_closes_at": ticket["last_customer_message_at"] + timedelta(hours=24), "window_kind": "24h"}

    desk = await make_desk(polled_config, extra_plugins=[("polled", channel), ("window", Window())])
    account = desk.registry.account("polled", "main")
    res = await ingest(desk, account, [InboundMessage(external_id="w1", sender_handle="c", text="hi")])
    ticket = await Ticket.select().where(Ticket.id == res[0].ticket_id).first()
    limits = await reply_constraints(desk, ticket)
    assert limits["max_text_length"] == 500 and limits["window_kind"] == "24h"
    assert limits["window_closes_at"] == ticket["last_customer_message_at"] + timedelta(hours=24)


async def test_hook_translate():
    class Upper:
        @hookimpl
        def translate(self, text, source, target):
            if target != "en":
                return None

            async def run():
                return text.upper()
            return run()

    class Never:
        @hookimpl(trylast=True)
        def translate(self, text, source, target):
            raise AssertionError("firstresult stops before this one")

    registry = load_registry(settings_from_dict({"plugins": {"enabled": []}}, "p.toml"),
                             extra_plugins=[("never", Never()), ("upper", Upper())])
    assert await registry.hook.translate(text="hallo", source="de", target="en") == "HALLO"


async def test_hook_startup(make_desk):
    calls = []

    class Lifecycle:
        @hookimpl
        def startup(self, desk):
            async def opened():
                calls.append(("startup", desk.started is False))
            return opened()

        @hookimpl
        def shutdown(self, desk):
            calls.append(("shutdown", True))

    desk = await make_desk(extra_plugins=[("life", Lifecycle())])
    assert calls == [("startup", True)]
    return desk, calls


async def test_hook_shutdown(make_desk):
    desk, calls = await test_hook_startup(make_desk)
    await desk.stop()
    assert calls == [("startup", True), ("shutdown", True)]


async def test_hook_desk_mail(make_desk, monkeypatch):
    """A plugin that offers desk mail gets the agent's invitation to send; one that fails leaves the
    link with the admin, saying why."""
    sent: list[tuple[str, str, str]] = []

    class Postman:
        def __init__(self, fail: bool) -> None:
            self.fail = fail

        @hookimpl
        def desk_mail(self, desk):
            async def send(to: str, subject: str, text: str) -> None:
                if self.fail:
                    raise ChannelError("the relay is down", retryable=True)
                sent.append((to, subject, text))
            return send

    monkeypatch.setenv("RELAYDESK_HOOK_TEST_SECRET", "hook-test-secret-0123456789abcdef")

    def with_secret(config):
        config["relaydesk"]["secret"] = {"env": "RELAYDESK_HOOK_TEST_SECRET"}

    for fail in (False, True):
        desk = await make_desk(with_secret, extra_plugins=[(f"postman{int(fail)}", Postman(fail))])
        _, token = await make_agent("admin", email=f"boss{int(fail)}@example.com")
        agent_id, _ = await make_agent("agent", email=f"ella{int(fail)}@example.com")
        async with client_for(desk) as client:
            answer = (await client.post(f"/api/v1/agents/{agent_id}/password-link", headers=auth(token))).json()
        if fail:
            assert answer["mailed"] is False and answer["mail_error"] == "the relay is down"
        else:
            assert answer["mailed"] is True
            to, subject, text = sent[0]
            assert to == "ella0@example.com" and subject and answer["url"] in text
