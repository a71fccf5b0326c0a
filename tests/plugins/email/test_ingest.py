"""Raw-mail ingest: the `relaydesk mail ingest` command (an MTA pipe) and POST /hooks/email/<account>."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from core.tables import Message, Ticket
from plugins.email.webhook import sign
from tests.helpers import client_for
from tests.plugins.email.mailhelpers import INGEST_TOKEN, bounce, email_config, email_env, mail


@pytest.fixture(autouse=True)
def _env(monkeypatch):
    email_env(monkeypatch)


def write_config(path: Path, desk) -> None:
    """The desk's settings as a plugins.toml the CLI can read (secrets stay env references)."""
    raw = desk.settings.raw

    def dump(value) -> str:
        if isinstance(value, dict):
            return "{ " + ", ".join(f"{k} = {dump(v)}" for k, v in value.items()) + " }"
        if isinstance(value, list):
            return "[" + ", ".join(dump(v) for v in value) + "]"
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            return repr(value)
        return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = ["[relaydesk]"] + [f"{k} = {dump(v)}" for k, v in raw["relaydesk"].items()]
    lines += ["[plugins]", f"enabled = {dump(raw['plugins']['enabled'])}"]
    for plugin, section in raw["plugins"].items():
        if plugin == "enabled":
            continue
        for name, account in section.get("accounts", {}).items():
            lines.append(f"[plugins.{plugin}.accounts.{name}]")
            lines += [f"{k} = {dump(v)}" for k, v in account.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tomllib.loads(path.read_text(encoding="utf-8"))


def run_cli(config: Path, stdin: bytes, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "RELAYDESK_CONFIG": str(config)}
    return subprocess.run([sys.executable, "-m", "core.cli", "mail", "ingest", *args], input=stdin,
                          capture_output=True, env=env, timeout=60)


async def test_cli_ingest_stores_mail_from_stdin(make_desk, tmp_path):
    desk = await make_desk(email_config(), run_jobs=False)
    config = tmp_path / "plugins.toml"
    write_config(config, desk)
    raw = mail("<cli1@buyer.example>", subject="Piped in")
    done = run_cli(config, raw, "--account", "support")
    assert done.returncode == 0, done.stderr.decode()
    assert b"stored <cli1@buyer.example> as message" in done.stdout
    row = await Message.select(Message.subject, Message.direction).where(Message.external_id == "<cli1@buyer.example>").first()
    assert row == {"subject": "Piped in", "direction": "inbound"}
    # The MTA delivers the same mail again: nothing changes.
    again = run_cli(config, raw)  # one email account: --account may be left out
    assert again.returncode == 0 and b"duplicate <cli1@buyer.example>" in again.stdout
    assert await Message.count() == 1
    # Usage and data errors use sysexits codes the MTA understands.
    assert run_cli(config, raw, "--account", "nope").returncode == 64
    assert run_cli(config, b"", "--account", "support").returncode == 65


async def test_cli_ingest_reports_a_temporary_failure_so_the_mta_retries(make_desk, tmp_path):
    desk = await make_desk(email_config(), run_jobs=False)
    config = tmp_path / "plugins.toml"
    write_config(config, desk)
    text = config.read_text(encoding="utf-8")
    database = desk.settings.database
    broken = "postgresql://postgres@127.0.0.1:1/none" if database.startswith("postgres") else \
        f"sqlite:///{tmp_path}/missing-dir/none.db"
    config.write_text(text.replace(database, broken), encoding="utf-8")
    done = run_cli(config, mail("<cli2@buyer.example>"), "--account", "support")
    assert done.returncode == 75 and b"temporary failure" in done.stderr


async def test_http_ingest_with_bearer_token_and_hmac(make_desk):
    desk = await make_desk(email_config(), run_jobs=False)
    raw = mail("<http1@buyer.example>", subject="Via a mail service")
    async with client_for(desk) as client:
        url = "/hooks/email/support"
        ok = await client.post(url, content=raw, headers={"authorization": f"Bearer {INGEST_TOKEN}",
                                                          "content-type": "message/rfc822"})
        assert ok.status_code == 200, ok.text
        assert ok.json()["stored"] == 1
        replay = await client.post(url, content=raw, headers={"authorization": f"Bearer {INGEST_TOKEN}"})
        assert replay.status_code == 200 and replay.json()["duplicates"] == 1

        signed = mail("<http2@buyer.example>")
        response = await client.post(url, content=signed, headers={"x-relaydesk-signature": sign(INGEST_TOKEN, signed)})
        assert response.status_code == 200 and response.json()["stored"] == 1

        wrong = await client.post(url, content=raw, headers={"authorization": "Bearer nope"})
        assert wrong.status_code == 401
        unsigned = await client.post(url, content=raw)
        assert unsigned.status_code == 401
        stale = await client.post(url, content=signed, headers={
            "x-relaydesk-signature": sign(INGEST_TOKEN, signed, int(time.time()) - 3600)})
        assert stale.status_code == 401
        tampered = await client.post(url, content=signed + b"x", headers={"x-relaydesk-signature": sign(INGEST_TOKEN, signed)})
        assert tampered.status_code == 401

        empty = await client.post(url, content=b"", headers={"authorization": f"Bearer {INGEST_TOKEN}"})
        assert empty.status_code == 400 and "empty" in empty.text
        junk = await client.post(url, content=b"\x00\x01 not a mail", headers={"authorization": f"Bearer {INGEST_TOKEN}"})
        assert junk.status_code == 400 and "RFC 822" in junk.text
        big = await client.post(url, content=b"From: a@b.example\r\n\r\n" + b"x" * (desk.settings.max_webhook_bytes + 1),
                                headers={"authorization": f"Bearer {INGEST_TOKEN}"})
        assert big.status_code == 413
        # A gateway that prepends a line of white space still delivers a mail (issue 18).
        spaced = await client.post(url, content=b" \r\n" + mail("<http-sp@buyer.example>", subject="Spaced"),
                                   headers={"authorization": f"Bearer {INGEST_TOKEN}"})
        assert spaced.status_code == 200, spaced.text
    row = await Message.select(Message.subject).where(Message.external_id == "<http-sp@buyer.example>").first()
    assert row == {"subject": "Spaced"}
    assert await Message.count() == 3 and await Ticket.count() == 3  # three new threads: three tickets


async def test_http_ingest_is_off_without_a_token(make_desk):
    desk = await make_desk(email_config(ingest_token=None), run_jobs=False)
    async with client_for(desk) as client:
        response = await client.post("/hooks/email/support", content=mail("<off@buyer.example>"),
                                     headers={"authorization": "Bearer anything"})
    assert response.status_code == 401 and "ingest_token" in response.text


async def test_http_bounce_marks_nothing_when_the_original_is_unknown(make_desk):
    desk = await make_desk(email_config(), run_jobs=False)
    async with client_for(desk) as client:
        response = await client.post("/hooks/email/support", content=bounce("<unknown@shop.example>"),
                                     headers={"authorization": f"Bearer {INGEST_TOKEN}"})
    assert response.status_code == 200 and response.json()["statuses"] == 1
    assert await Message.count() == 0 and await Ticket.count() == 0


async def test_http_ingest_stores_html_mail_sanitized(make_desk):
    # The parser hands a mail's HTML over as received; the core sanitizes it (nh3) before storing.
    desk = await make_desk(email_config(), run_jobs=False)
    html = ('<p onclick="steal()">Hello <b>there</b></p><script>alert(1)</script>'
            '<a href="javascript:alert(2)">x</a><iframe src="https://evil.example"></iframe><img src="cid:logo@shop">')
    raw = mail("<html1@buyer.example>", body=html).replace(b"Content-Type: text/plain", b"Content-Type: text/html", 1)
    async with client_for(desk) as client:
        response = await client.post("/hooks/email/support", content=raw,
                                     headers={"authorization": f"Bearer {INGEST_TOKEN}"})
    assert response.status_code == 200 and response.json()["stored"] == 1, response.text
    row = await Message.select(Message.html, Message.text).where(Message.external_id == "<html1@buyer.example>").first()
    lowered = row["html"].lower()
    for bad in ("<script", "onclick", "javascript:", "alert(", "<iframe"):
        assert bad not in lowered, bad
    assert "<b>there</b>" in row["html"] and 'src="cid:logo@shop"' in row["html"]
    assert row["text"].startswith("Hello there")
