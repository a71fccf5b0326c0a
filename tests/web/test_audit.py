"""The audit log read back (issue 19 item 6): API and admin page, filtered by actor, action and date,
newest first with keyset pages; admins only; hostile filters get a 400, never a 500."""

from __future__ import annotations

from datetime import timedelta

from core import audit, clock
from core.tables import AuditEntry
from tests.helpers import auth, client_for, make_agent
from tests.web.inbox_helpers import sign_in


async def _entries(count: int, actor: str, action: str, days_ago: int) -> None:
    at = clock.now() - timedelta(days=days_ago)
    await AuditEntry.insert(*(AuditEntry(actor=actor, action=action, entity_type="agent", entity_id=i,
                                         changes={"n": i, "note": "改动"}, created_at=at) for i in range(count)))


async def test_admins_read_the_log_filtered_and_paged(desk):
    admin_id, admin = await make_agent("admin", email="audit-admin@example.com")
    _, supervisor = await make_agent("supervisor", email="audit-sup@example.com")
    await _entries(120, f"agent:{admin_id}", "set_role", days_ago=0)
    await _entries(5, "cli", "deactivate", days_ago=10)
    async with client_for(desk) as client:
        assert (await client.get("/api/v1/audit", headers=auth(supervisor))).status_code == 403
        seen, cursor = [], None
        while True:
            params = {"actor": f"agent:{admin_id}", "action": "set_role", "limit": 50, **({"cursor": cursor} if cursor else {})}
            body = (await client.get("/api/v1/audit", params=params, headers=auth(admin))).json()
            seen += [e["id"] for e in body["items"]]
            cursor = body["next_cursor"]
            if not cursor:
                break
        assert len(seen) == 120 and seen == sorted(seen, reverse=True) and len(set(seen)) == 120
        since = (clock.now() - timedelta(days=11)).isoformat()
        until = (clock.now() - timedelta(days=9)).isoformat()
        old = (await client.get("/api/v1/audit", params={"since": since, "until": until}, headers=auth(admin))).json()
        assert [e["action"] for e in old["items"]] == ["deactivate"] * 5
        assert old["items"][0]["changes"]["note"] == "改动"
        for bad in ({"since": "2026-11-11T00:00:00"}, {"since": "yesterday"}, {"limit": 0}, {"cursor": "%%%"},
                    {"actor": "x" * 500}, {"entity_id": -1}):
            response = await client.get("/api/v1/audit", params=bad, headers=auth(admin))
            assert response.status_code == 400, bad


async def test_the_audit_page_shows_names_and_filters(desk):
    admin_id, _ = await make_agent("admin", email="audit-page@example.com")
    await audit.record(f"agent:{admin_id}", "merge", "customer", 7, {"into": 3})
    await audit.record("cli", "deactivate", "agent", 9, {})
    async with client_for(desk) as client:
        await sign_in(client, "audit-page@example.com")
        page = await client.get("/inbox/admin/audit", params={"action": "merge"})
        assert page.status_code == 200
        assert "Admin Agent" in page.text and "merge" in page.text and "customer 7" in page.text
        assert "agent 9" not in page.text
        odd = await client.get("/inbox/admin/audit", params={"since": "not a date", "before": "99999999999999"})
        assert odd.status_code in (200, 400)
    await make_agent("agent", email="audit-agent@example.com")
    async with client_for(desk) as client:
        await sign_in(client, "audit-agent@example.com")
        assert (await client.get("/inbox/admin/audit")).status_code == 403
