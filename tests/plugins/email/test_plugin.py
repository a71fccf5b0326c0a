"""The email plugin loads, registers its hooks, and refuses bad account settings clearly."""

from __future__ import annotations

import pytest

from core.config import settings_from_dict
from core.errors import ConfigError
from core.plugins import load_registry
from plugins.email.settings import EmailAccountSettings, server_url


def registry_with(account: dict, monkeypatch) -> object:
    monkeypatch.setenv("MAIL_PW", "pw")
    config = {"relaydesk": {"database": "sqlite:///x.db"},
              "plugins": {"enabled": ["email"], "email": {"accounts": {"support": account}}}}
    return load_registry(settings_from_dict(config, "plugins.toml"))


def test_it_loads_and_registers(monkeypatch):
    registry = registry_with({"imap_url": "imaps://imap.example.com", "username": "s@example.com",
                              "password": {"env": "MAIL_PW"}, "smtp_url": "smtp://smtp.example.com",
                              "from_address": "s@example.com"}, monkeypatch)
    assert registry.channels["email"].plugin == "email"
    assert registry.channels["email"].limits.supports_html
    account = registry.account("email", "support")
    assert account.channel_type == "email" and account.settings.password == "pw"
    assert account.settings.folders == ["INBOX"] and account.settings.closed_ticket_reply == "reopen"
    assert account.settings.auto_replies_open_tickets is False
    assert "email_idle" in registry.jobs and registry.jobs["email_idle"].every
    assert [c.name for c in registry.commands] == ["mail"]
    assert "ingest" in registry.commands[0].commands
    hooks = {c.name for c in registry.pm.get_hookcallers(registry.pm.get_plugin("email"))}
    assert {"register_channels", "poll", "send_message", "parse_webhook", "register_commands",
            "register_jobs", "shutdown"} <= hooks


@pytest.mark.parametrize("account, key, problem", [
    ({"imap_url": "pop3://x.example", "username": "u", "password": {"env": "MAIL_PW"}},
     "plugins.email.accounts.support", "imap://"),
    ({"imap_url": "imaps://x.example", "username": "u"}, "plugins.email.accounts.support", "username and password"),
    ({"smtp_url": "smtps://x.example"}, "plugins.email.accounts.support", "from_address"),
    ({"closed_ticket_reply": "merge"}, "plugins.email.accounts.support.closed_ticket_reply", "Invalid enum value"),
    ({"folder": ["INBOX"]}, "plugins.email.accounts.support", "folder"),
])
def test_bad_settings_name_the_key(account, key, problem, monkeypatch):
    with pytest.raises(ConfigError) as info:
        registry_with(account, monkeypatch)
    assert info.value.key.startswith(key) and problem in str(info.value)


def test_a_literal_password_is_refused(monkeypatch):
    with pytest.raises(ConfigError, match="literal"):
        registry_with({"imap_url": "imaps://x.example", "username": "u", "password": "hunter2"}, monkeypatch)


def test_server_urls():
    assert server_url("imaps://mail.example.com", ("imap", "imaps")).port == 993
    assert server_url("imap://mail.example.com", ("imap", "imaps")).implicit_tls is False
    url = server_url("smtp://127.0.0.1:2525", ("smtp", "smtps"))
    assert (url.host, url.port, url.implicit_tls) == ("127.0.0.1", 2525, False)
    with pytest.raises(ValueError, match="credentials"):
        server_url("smtps://user:pw@mail.example.com", ("smtp", "smtps"))
    assert EmailAccountSettings().rate_limit_per_hour > 0
