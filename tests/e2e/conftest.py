"""Browser tests: a real uvicorn server on a free loopback port, Debian's Chromium driven by selenium
through /usr/bin/chromedriver (nothing downloads a browser), and the API channel's callback pointed
at a loopback server so a reply can be seen arriving at the far end."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator

import httpx
import pytest

from tests.conftest import API_SECRET, REDIS_URL, _create_pg_database, _drop_pg_database
from tests.helpers import signed
from tests.loopback import LoopbackServer

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_config(path: Path, database: str, data_dir: Path, callback_url: str, redis: str | None = None,
                 queue_name: str | None = None) -> Path:
    lines = ["[relaydesk]", f'database = "{database}"', f'data_dir = "{data_dir}"', 'secret = { env = "RELAYDESK_E2E_SECRET" }',
             f'queue_name = "{queue_name or "e2e-" + uuid.uuid4().hex[:8]}"',
             'outbound_allowlist = ["127.0.0.1"]  # the loopback receiver (core.urlguard)']
    if redis:
        lines.append(f'redis = "{redis}"')
    lines += ["", "[plugins]", 'enabled = ["api_channel"]', "", "[plugins.api_channel.accounts.main]",
              'secret = { env = "RELAYDESK_TEST_API_SECRET" }', f'callback_url = "{callback_url}"']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class Server:
    def __init__(self, config: Path, port: int, log: Path) -> None:
        self.config, self.port, self.url = config, port, f"http://127.0.0.1:{port}"
        self.database = ""  # set by the fixture that made it
        env = {**os.environ, "RELAYDESK_TEST_API_SECRET": API_SECRET, "RELAYDESK_E2E_SECRET": "e2e-secret-" + "x" * 20}
        self.log = log.open("w")
        self.process = subprocess.Popen([sys.executable, "-m", "tests.e2e.serve", str(config), str(port)], cwd=ROOT,
                                        env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited: {log.read_text()}")
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError(f"the server did not start: {log.read_text()}")

    def post_messages(self, messages: list[dict[str, Any]]) -> httpx.Response:
        body, headers = signed({"messages": messages, "statuses": []})
        response = httpx.post(self.url + "/hooks/api_channel/main", content=body, headers=headers, timeout=10)
        assert response.status_code < 300, response.text
        return response

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def _seed_agents(database: str, agents: list[tuple[str, str, str, str]]) -> None:
    from core import db
    from core.auth import hash_password
    from core.tables import Agent

    await db.connect(database, pool_size=2)
    try:
        for email, name, role, locale in agents:
            await Agent.insert(Agent(name=name, email=email, role=role, locale=locale, availability="online",
                                     password_hash=hash_password("pw"), timezone="Asia/Shanghai"))
    finally:
        await db.disconnect()


AGENTS = [("ann@example.com", "Ann Chen", "admin", "en"), ("bo@example.com", "Bo Wang", "agent", "en"),
          ("li@example.com", "李娜", "agent", "zh"), ("ro@example.com", "Rita Readonly", "readonly", "en")]


@pytest.fixture(scope="module")
def receiver() -> Iterator[LoopbackServer]:
    server = LoopbackServer()
    server.default.body = {"id": "far-end-1"}
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, receiver: LoopbackServer) -> Iterator[Server]:
    """The embedded deployment: SQLite, jobs in-process, in-memory live updates."""
    root = tmp_path_factory.mktemp("e2e")
    database = f"sqlite:///{root / 'relaydesk.db'}"
    config = write_config(root / "plugins.toml", database, root / "data", receiver.url + "/replies")
    srv = Server(config, free_port(), root / "server.log")
    srv.database = database
    run(_seed_agents(database, AGENTS))
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def scaled(tmp_path_factory: pytest.TempPathFactory, receiver: LoopbackServer) -> Iterator[tuple[Server, Server]]:
    """The scaled deployment: PostgreSQL, Redis, two web processes sharing sessions and live events."""
    root = tmp_path_factory.mktemp("e2e-scaled")
    database = run(_create_pg_database())
    queue = "e2e-" + uuid.uuid4().hex[:8]
    config = write_config(root / "plugins.toml", database, root / "data", receiver.url + "/replies",
                          redis=REDIS_URL, queue_name=queue)
    first = Server(config, free_port(), root / "a.log")
    second = Server(config, free_port(), root / "b.log")
    run(_seed_agents(database, AGENTS))
    yield first, second
    first.stop()
    second.stop()
    run(_drop_pg_database(database))


@pytest.fixture
def browser_factory() -> Iterator[Callable[..., Any]]:
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    drivers: list[Any] = []

    def make(language: str = "en", console: bool = False) -> Any:
        options = Options()
        options.binary_location = CHROMIUM
        if console:  # keep the browser's console (CSP reports, failed loads) for driver.get_log("browser")
            options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        # headless Chromium ignores --lang for Accept-Language; the preference sets it
        options.add_experimental_option("prefs", {"intl.accept_languages": language})
        for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--window-size=1440,900", "--disable-dev-shm-usage", f"--lang={language}"):
            options.add_argument(arg)
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        driver.implicitly_wait(0)
        drivers.append(driver)
        return driver

    yield make
    for driver in drivers:
        driver.quit()


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    deadline = time.time() + timeout
    last: Exception | None = None
    while time.time() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # the element is not there yet
            last = exc
        time.sleep(0.1)
    raise AssertionError(f"{what} not met within {timeout}s" + (f" (last error: {last})" if last else ""))


def sign_in(driver: Any, base: str, email: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(base + "/login")
    driver.find_element(By.NAME, "email").send_keys(email)
    driver.find_element(By.NAME, "password").send_keys("pw")
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_until(lambda: "/inbox/q/" in driver.current_url, what="the inbox after sign-in")


def sse_connected(driver: Any) -> bool:
    """inbox.js marks the body when htmx's SSE extension reports the stream open."""
    return driver.execute_script("return document.body.dataset.live") == "open"


__all__ = ["Server", "wait_until", "sign_in", "sse_connected", "json"]


SHOWCASE = [
    ("sc-1", "chen-xh", "陈晓华", "订单 #A-20391 物流没有更新",
     "您好，我上周下的订单 #A-20391 还没有收到，物流信息已经三天没有更新了。麻烦帮我查一下，谢谢！"),
    ("sc-2", "emily", "Emily Carter", "Broken zipper – replacement?",
     "Hi, the zipper on the jacket I bought broke after two days. Can I get a replacement in size M?"),
    ("sc-3", "kevin", "Kevin Liu", "Shipping to Canada",
     "Can you ship to Vancouver, Canada? 请问可以寄到加拿大吗？运费大概多少？"),
    ("sc-4", "sofia", "Sofia Rossi", "Invoice for order #B-7781",
     "Could you send me a VAT invoice for order #B-7781? Our company details are below."),
    ("sc-5", "wang-l", "王磊", "退货申请",
     "收到的杯子有裂痕，想申请退货退款，照片已经附上。"),
    ("sc-6", "tom", "Tom Becker", "Wrong colour delivered",
     "I ordered the navy backpack but received a black one. What should I do?"),
]


async def _seed_showcase(database: str) -> None:
    """Make the screenshots look like a working day: due times, priorities, tags, a reply and a note."""
    from datetime import timedelta

    from core import clock, db
    from core.tables import Agent, Customer, Message, Team, Ticket, TicketTag

    await db.connect(database, pool_size=2)
    try:
        now = clock.now()
        team = (await Team.insert(Team(name="Support CN")).returning(Team.id))[0]["id"]
        await Team.insert(Team(name="Support EU"))
        agents = {r["email"]: r["id"] for r in await Agent.select(Agent.id, Agent.email)}
        tickets = {r["subject"]: r for r in await Ticket.select(Ticket.id, Ticket.subject, Ticket.customer)}
        plan = {
            "订单 #A-20391 物流没有更新": (timedelta(minutes=-12), "high", ["物流", "vip"], "li@example.com"),
            "Broken zipper – replacement?": (timedelta(minutes=35), "normal", ["returns"], None),
            "Shipping to Canada": (timedelta(hours=3), "normal", ["pre-sale"], "bo@example.com"),
            "Invoice for order #B-7781": (timedelta(hours=20), "low", ["invoice"], None),
            "退货申请": (timedelta(minutes=50), "urgent", ["退货"], None),
            "Wrong colour delivered": (None, "normal", [], "ann@example.com"),
        }
        for subject, (due, priority, tags, assignee) in plan.items():
            row = tickets[subject]
            await Ticket.update({Ticket.sla_due_at: now + due if due else None, Ticket.priority: priority,
                                 Ticket.assignee: agents.get(assignee) if assignee else None,
                                 Ticket.team: team if any(ord(c) > 0x3000 for c in subject) else None,
                                 Ticket.status: "open" if assignee else "new"}).where(Ticket.id == row["id"])
            for tag in tags:
                await TicketTag.insert(TicketTag(ticket=row["id"], tag=tag))
        first = tickets["订单 #A-20391 物流没有更新"]
        # the customer's message with its translation, as the translate plugin stores one
        await Message.update({Message.metadata: {"translation": {
            "text": "Hello, my order #A-20391 from last week has not arrived, and the tracking has not moved for "
                    "three days. Could you look into it? Thank you!", "language": "en", "source": "zh",
            "provider": "deepl"}}}).where((Message.ticket == first["id"]) & (Message.direction == "inbound"))
        await Customer.update({Customer.tags: ["VIP"], Customer.email: "chen.xh@example.cn",
                               Customer.notes: "老客户，偏好顺丰快递。"}).where(Customer.id == first["customer"])
        await Message.insert(
            Message(ticket=first["id"], direction="note", author=agents["li@example.com"],
                    text="已联系仓库，包裹在上海转运中心滞留。", created_at=now - timedelta(minutes=5)),
            Message(ticket=first["id"], direction="outbound", author=agents["li@example.com"], account=1,
                    text="陈先生您好，您的包裹目前在上海转运中心，预计明天恢复派送。给您带来不便，非常抱歉！",
                    delivery_status="delivered", created_at=now - timedelta(minutes=2)),
        )
    finally:
        await db.disconnect()


@pytest.fixture(scope="module")
def showcase(tmp_path_factory: pytest.TempPathFactory, receiver: LoopbackServer) -> Iterator[Server]:
    """A fresh embedded server with a realistic day's tickets, for the README's screenshots."""
    root = tmp_path_factory.mktemp("e2e-showcase")
    database = f"sqlite:///{root / 'relaydesk.db'}"
    config = write_config(root / "plugins.toml", database, root / "data", receiver.url + "/replies")
    srv = Server(config, free_port(), root / "server.log")
    run(_seed_agents(database, AGENTS))
    srv.post_messages([{"id": eid, "sender": {"id": sender, "name": name}, "subject": subject, "text": text}
                       for eid, sender, name, subject, text in SHOWCASE])
    run(_seed_showcase(database))
    yield srv
    srv.stop()
