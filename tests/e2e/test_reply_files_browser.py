"""Files with a reply in a real browser, at human pace (issue 15): the agent sees the channel's file
limits in the reply box, attaches a file with the file input and sends it on WhatsApp (the loopback
Graph API receives the upload) and on email (a real SMTP server receives the mail); a file too large
for the channel is refused in the browser before anything is sent, and the draft stays.
Real uvicorn, Debian's Chromium."""

from __future__ import annotations

import email
import email.policy
import json
import os
import time
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
from selenium.webdriver.common.by import By

from tests.e2e.conftest import AGENTS, Server, _seed_agents, free_port, run, sign_in, wait_until
from tests.plugins.email.conftest import _start_smtp
from tests.plugins.email.mailhelpers import INGEST_TOKEN, TOKEN_ENV, mail
from tests.plugins.whatsapp.graph_loopback import GraphLoopback
from tests.plugins.whatsapp.wa_helpers import APP_SECRET, PHONE_ID, TOKEN, VERIFY_TOKEN, envelope, sign, text_message

IDLE = 2.0  # the agent's pauses between steps
JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40
PDF = b"%PDF-1.4\n" + b"packing list, order 1001\n" * 100_000  # 2.5 MB: more than any other route takes
ENV = {"RD_TEST_WA_TOKEN": TOKEN, "RD_TEST_WA_SECRET": APP_SECRET, "RD_TEST_WA_VERIFY": VERIFY_TOKEN,
       TOKEN_ENV: INGEST_TOKEN}


class Desk:
    def __init__(self, server: Server, graph: GraphLoopback, smtp: Any, files: Path) -> None:
        self.server, self.graph, self.smtp, self.files = server, graph, smtp, files


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    root = tmp_path_factory.mktemp("e2e-files")
    graph = GraphLoopback(token=TOKEN).start()
    smtp = _start_smtp(None, auth=False, mode="plain")
    database = f"sqlite:///{root / 'relaydesk.db'}"
    config = root / "plugins.toml"
    config.write_text("\n".join([
        "[relaydesk]", f'database = "{database}"', f'data_dir = "{root / "data"}"',
        'secret = { env = "RELAYDESK_E2E_SECRET" }', 'queue_name = "e2e-files"', "poll_interval_seconds = 3600.0",
        'outbound_allowlist = ["127.0.0.1"]', "",
        "[plugins]", 'enabled = ["api_channel", "email", "whatsapp"]', "",
        "[plugins.api_channel.accounts.main]", 'secret = { env = "RELAYDESK_TEST_API_SECRET" }', "",
        "[plugins.email.accounts.support]", 'from_address = "support@shop.example"', 'from_name = "Shop Support"',
        f'ingest_token = {{ env = "{TOKEN_ENV}" }}', f'smtp_url = "{smtp.url}"', "smtp_starttls = false", "",
        "[plugins.whatsapp.accounts.main]", f'phone_number_id = "{PHONE_ID}"',
        'access_token = { env = "RD_TEST_WA_TOKEN" }', 'app_secret = { env = "RD_TEST_WA_SECRET" }',
        'verify_token = { env = "RD_TEST_WA_VERIFY" }', f'base_url = "{graph.url}"', "",
    ]), encoding="utf-8")
    saved = {k: os.environ.get(k) for k in ENV}
    os.environ.update(ENV)  # the server process inherits the accounts' secrets
    try:
        server = Server(config, free_port(), root / "server.log")
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    server.database = database
    run(_seed_agents(database, AGENTS))
    files = root / "files"
    files.mkdir()
    yield Desk(server, graph, smtp, files)
    server.stop()
    smtp.controller.stop()
    graph.stop()


# Which htmx requests carry the files, and which answers were errors.
REQUEST_PROBE = """
window.__requests = []; window.__failures = [];
document.addEventListener('htmx:beforeRequest', (e) => {
  const data = e.detail.requestConfig && e.detail.requestConfig.formData;
  window.__requests.push([e.detail.requestConfig.path, !!(data && data.getAll('files').some((f) => f.size))]);
});
document.addEventListener('htmx:responseError', (e) => window.__failures.push(e.detail.xhr.status));
"""


def _whatsapp_ticket(desk: Desk, wamid: str) -> int:
    body = json.dumps(envelope([text_message(wamid, ts=int(time.time()))])).encode()
    res = httpx.post(desk.server.url + "/hooks/whatsapp/main", content=body, headers=sign(body), timeout=10)
    assert res.status_code == 200, res.text
    return res.json()["messages"][0]["ticket_id"]


def _email_ticket(desk: Desk, msgid: str) -> int:
    res = httpx.post(desk.server.url + "/hooks/email/support", content=mail(msgid),
                     headers={"authorization": f"Bearer {INGEST_TOKEN}"}, timeout=10)
    assert res.status_code < 300, res.text
    return res.json()["messages"][0]["ticket_id"]


def _write(desk: Desk, name: str, data: bytes) -> str:
    path = desk.files / name
    path.write_bytes(data)
    return str(path)


def _type_slowly(driver: Any, text: str) -> None:
    box = driver.find_element(By.CSS_SELECTOR, "#reply textarea")
    for word in text.split(" "):
        box.send_keys(word + " ")
        time.sleep(0.15)
    time.sleep(IDLE)


def _attach(driver: Any, path: str) -> None:
    driver.find_element(By.CSS_SELECTOR, "#reply input[type=file][name=files]").send_keys(path)
    time.sleep(IDLE)


def _listed(driver: Any) -> list[str]:
    return [li.text for li in driver.find_elements(By.CSS_SELECTOR, "#reply [data-file-list] li")]


def _outbound_count(desk: Desk) -> int:
    async def count() -> int:
        from core import db
        from core.tables import Message

        await db.connect(desk.server.database, pool_size=1)
        try:
            return await Message.count().where(Message.direction == "outbound")
        finally:
            await db.disconnect()
    return run(count())


def test_agent_attaches_a_photo_on_whatsapp_and_a_too_large_one_is_refused_first(desk, browser_factory):
    ticket = _whatsapp_ticket(desk, "wamid.E2E-FILES-1")
    driver = browser_factory()
    sign_in(driver, desk.server.url, "bo@example.com")
    driver.get(f"{desk.server.url}/inbox/t/{ticket}")
    limits = driver.find_element(By.CSS_SELECTOR, "#reply [data-file-limits]").text
    # shown before anything is sent: the count, the size and each type's own cap
    assert "up to 10 files" in limits and "JPG, PNG ≤ 5 MB" in limits and "PDF" in limits
    # a photo too large for WhatsApp (5 MB for images): refused in the browser, nothing sent, draft kept
    draft = "Here is the photo of your parcel"
    _type_slowly(driver, draft)
    _attach(driver, _write(desk, "huge.jpg", b"\xff\xd8" + b"\x00" * 5_000_000))
    error = driver.find_element(By.CSS_SELECTOR, "#reply [data-file-error]")
    assert error.is_displayed() and "huge.jpg" in error.text and "at most 5 MB" in error.text
    assert _listed(driver) == []
    assert driver.execute_script("return document.querySelector('#reply input[name=files]').files.length") == 0
    assert driver.find_element(By.CSS_SELECTOR, "#reply textarea").get_attribute("value").strip() == draft
    assert not desk.graph.uploads and _outbound_count(desk) == 0
    # the right photo instead, then send
    _attach(driver, _write(desk, "parcel.jpg", JPEG))
    assert len(_listed(driver)) == 1 and "parcel.jpg" in _listed(driver)[0]
    _attach(driver, _write(desk, "note.txt", b"gift wrap, please"))
    assert len(_listed(driver)) == 2 and "note.txt" in _listed(driver)[1]
    driver.find_elements(By.CSS_SELECTOR, "#reply [data-remove-file]")[1].click()  # changed their mind
    time.sleep(IDLE)
    assert len(_listed(driver)) == 1 and "parcel.jpg" in _listed(driver)[0]
    assert not driver.find_element(By.CSS_SELECTOR, "#reply [data-file-error]").is_displayed()
    driver.find_element(By.CSS_SELECTOR, "#reply button[type=submit]").click()
    wait_until(lambda: desk.graph.uploads, timeout=15, what="the photo uploaded to WhatsApp")
    [(media_id, upload)] = desk.graph.uploads.items()
    assert upload.data == JPEG and upload.filename == "parcel.jpg" and upload.content_type == "image/jpeg"
    wait_until(lambda: desk.graph.sends(), timeout=15, what="the message naming the media")
    assert desk.graph.sends()[-1].json()["image"] == {"id": media_id, "caption": draft}
    wait_until(lambda: "parcel.jpg" in driver.find_element(By.ID, "timeline").text, what="the file in the timeline")
    wait_until(lambda: driver.find_element(By.CSS_SELECTOR, "#reply textarea").get_attribute("value") == ""
               and _listed(driver) == [], what="the box emptied after sending")


def test_agent_attaches_a_pdf_on_email_and_the_mail_carries_it(desk, browser_factory):
    ticket = _email_ticket(desk, "<e2e-files-1@buyer.example>")
    driver = browser_factory()
    sign_in(driver, desk.server.url, "bo@example.com")
    driver.get(f"{desk.server.url}/inbox/t/{ticket}")
    driver.execute_script(REQUEST_PROBE)
    assert "up to 10 files" in driver.find_element(By.CSS_SELECTOR, "#reply [data-file-limits]").text
    _type_slowly(driver, "The packing list of order 1001")
    _attach(driver, _write(desk, "packing-list.pdf", PDF))
    assert "packing-list.pdf" in _listed(driver)[0]
    # typing on (the presence post) and "Check draft" are requests of the form's elements: they
    # carry the text, never the files
    _type_slowly(driver, "is attached.")
    driver.find_element(By.CSS_SELECTOR, "#reply button[hx-post$='/draft-check']").click()
    time.sleep(IDLE)
    seen = driver.execute_script("return window.__requests")
    assert {"presence", "draft-check"} <= {path.rsplit("/", 1)[-1] for path, _ in seen}, seen
    assert all(not files for _, files in seen), seen  # no request but the send carries the files
    assert driver.execute_script("return window.__failures") == []
    driver.find_element(By.CSS_SELECTOR, "#reply button[type=submit]").click()
    wait_until(lambda: desk.smtp.received, timeout=15, what="the mail at the SMTP server")
    parsed = email.message_from_bytes(desk.smtp.received[-1].data, policy=email.policy.default)
    [part] = list(parsed.iter_attachments())
    assert part.get_filename() == "packing-list.pdf" and part.get_payload(decode=True) == PDF
    assert "packing list of order 1001" in parsed.get_body(("plain",)).get_content()
    wait_until(lambda: "packing-list.pdf" in driver.find_element(By.ID, "timeline").text, what="the file in the timeline")


DROP_AND_PASTE = """
const [kind, name, type, bytes] = arguments;
const transfer = new DataTransfer();
transfer.items.add(new File([new Uint8Array(bytes)], name, { type }));
const box = document.querySelector('#reply textarea');
if (kind === 'drop') {
  box.dispatchEvent(new DragEvent('dragover', { dataTransfer: transfer, bubbles: true, cancelable: true }));
  box.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
} else {
  box.dispatchEvent(new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true, cancelable: true }));
}
"""


def test_a_dropped_file_and_a_pasted_screenshot_go_with_the_reply(desk, browser_factory):
    ticket = _whatsapp_ticket(desk, "wamid.E2E-FILES-2")
    before = set(desk.graph.uploads)
    driver = browser_factory()
    sign_in(driver, desk.server.url, "bo@example.com")
    driver.get(f"{desk.server.url}/inbox/t/{ticket}")
    _type_slowly(driver, "Your invoice and a screenshot of the tracking page")
    driver.execute_script(DROP_AND_PASTE, "drop", "invoice.pdf", "application/pdf", list(PDF[:2000]))
    time.sleep(IDLE)
    driver.execute_script(DROP_AND_PASTE, "paste", "image.png", "image/png", list(b"\x89PNG\r\n\x1a\n" + bytes(500)))
    time.sleep(IDLE)
    listed = _listed(driver)
    assert len(listed) == 2 and "invoice.pdf" in listed[0] and "pasted-" in listed[1] and ".png" in listed[1]
    # a dropped file of a type WhatsApp does not send is refused with the reason
    driver.execute_script(DROP_AND_PASTE, "drop", "setup.exe", "application/x-msdownload", [77, 90])
    time.sleep(IDLE)
    assert "setup.exe" in driver.find_element(By.CSS_SELECTOR, "#reply [data-file-error]").text and len(_listed(driver)) == 2
    driver.find_element(By.CSS_SELECTOR, "#reply button[type=submit]").click()
    wait_until(lambda: len(set(desk.graph.uploads) - before) == 2, timeout=15, what="both files uploaded")
    new = [desk.graph.uploads[k] for k in sorted(set(desk.graph.uploads) - before, key=lambda k: int(k[3:]))]
    assert [u.filename for u in new][0] == "invoice.pdf" and new[0].data == PDF[:2000]
    assert new[1].filename.startswith("pasted-") and new[1].content_type == "image/png"
