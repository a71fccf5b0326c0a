"""The reports area: who may see it, the page's tables and their CSV files (the same rows), the
API's figures, bad input as 400, both languages; on the hand-built history of tests/core/test_reports."""

from __future__ import annotations

import csv
import io
from html.parser import HTMLParser

from core.tables import Agent
from tests.core.policy_helpers import at  # noqa: F401 (the moving clock)
from tests.core.test_reports import build_history
from tests.helpers import auth, client_for, make_agent
from tests.web.inbox_helpers import sign_in

RANGE = "since=2026-11-23&until=2026-11-24&tz=desk"


class Tables(HTMLParser):
    """Every <table data-table=...> of a page as rows of cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._current: str | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._current = dict(attrs).get("data-table")
            if self._current:
                self.tables[self._current] = []
        elif tag == "tr" and self._current:
            self.tables[self._current].append([])
        elif tag in ("td", "th") and self._current:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._current:
            self.tables[self._current][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._current = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def tables_of(html: str) -> dict[str, list[list[str]]]:
    parser = Tables()
    parser.feed(html)
    return parser.tables


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


async def test_supervisors_see_reports_whose_csv_matches_the_page(make_desk, at):  # noqa: F811
    desk = await make_desk(run_jobs=False)
    await build_history(desk, at)
    await make_agent("supervisor", email="sue@example.com")
    await make_agent("agent", email="al@example.com")
    async with client_for(desk) as client:
        await sign_in(client, "al@example.com")
        assert (await client.get("/inbox/reports")).status_code == 403
        assert (await client.get(f"/inbox/reports/csv/overview?{RANGE}")).status_code == 403
    async with client_for(desk) as client:
        await sign_in(client, "sue@example.com")
        page = await client.get(f"/inbox/reports?{RANGE}&by=agent")
        assert page.status_code == 200
        assert '<a href="/inbox/reports">Reports</a>' in page.text
        shown = tables_of(page.text)
        for name in ("overview", "series", "breakdown", "heatmap"):
            download = await client.get(f"/inbox/reports/csv/{name}?{RANGE}&by=agent&step=day")
            assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
            assert csv_rows(download.text) == shown[name], name
        overview = {row[0]: row[1:] for row in shown["overview"][1:]}
        assert overview["New tickets"] == ["4", "0", ""]  # Monday's four; nothing the two days before
        assert overview["Reopen rate %"][0] == "33.3"
        assert shown["series"][1][:5] == ["2026-11-23", "4", "3", "1", "2"]
        assert shown["heatmap"][1][0] == "Monday" and shown["heatmap"][1][1 + 9] == "2"
        assert [r[0] for r in shown["breakdown"][1:]] == ["(none)", "Agent Agent"]
        for bad in ("since=2026-13-01", "tz=mars", "by=planet", "step=minute", "since=2026-11-24&until=2026-11-01",
                    "since=2024-01-01&until=2026-01-01", "step=hour&since=2026-01-01&until=2026-03-01"):
            assert (await client.get(f"/inbox/reports?{bad}")).status_code == 400, bad
        assert (await client.get(f"/inbox/reports/csv/secrets?{RANGE}")).status_code == 400


async def test_reports_in_chinese_and_in_the_viewers_time_zone(make_desk, at):  # noqa: F811
    desk = await make_desk(run_jobs=False)
    await build_history(desk, at)
    lead, _ = await make_agent("supervisor", email="li@example.com")
    await Agent.update({Agent.locale: "zh", Agent.timezone: "Asia/Shanghai"}).where(Agent.id == lead)
    async with client_for(desk) as client:
        await sign_in(client, "li@example.com")
        page = await client.get("/inbox/reports?since=2026-11-23&until=2026-11-24&tz=viewer")
        assert page.status_code == 200 and "报表" in page.text and "按星期和小时的新工单" in page.text
        series = tables_of(page.text)["series"]
        assert series[0][0] == "时段" and [r[:2] for r in series[1:]] == [["2026-11-23", "3"], ["2026-11-24", "1"]]
        download = await client.get("/inbox/reports/csv/series?since=2026-11-23&until=2026-11-24&tz=viewer")
        assert csv_rows(download.text) == series


async def test_api_gives_the_same_figures(make_desk, at):  # noqa: F811
    desk = await make_desk(run_jobs=False)
    await build_history(desk, at)
    _, supervisor = await make_agent("supervisor", email="sue@example.com")
    _, agent = await make_agent("agent", email="al@example.com")
    async with client_for(desk) as client:
        got = await client.get("/api/v1/reports/?since=2026-11-23&until=2026-11-23&by=tag", headers=auth(supervisor))
        refused = await client.get("/api/v1/reports/", headers=auth(agent))
        bad = await client.get("/api/v1/reports/?tz=Mars/Olympus", headers=auth(supervisor))
        reversed_ = await client.get("/api/v1/reports/?since=2026-11-24&until=2026-11-01", headers=auth(supervisor))
        schema = (await client.get("/api/v1/schema/openapi.json")).json()
    assert got.status_code == 200, got.text
    body = got.json()
    overview = {r["metric"]: r for r in body["overview"]}
    assert (overview["created"]["value"], overview["solved"]["value"], overview["fr_breached"]["value"]) == (4, 3, 2)
    assert [(r["key"], r["created"], r["solved"]) for r in body["breakdown"]] == [("refund", 1, 2)]
    assert body["heatmap"][0][9] == 2 and len(body["series"]) == 1
    assert refused.status_code == 403 and bad.status_code == 400 and reversed_.status_code == 400
    assert "/api/v1/reports" in schema["paths"] and "reports" in str(schema["paths"]["/api/v1/reports"])
