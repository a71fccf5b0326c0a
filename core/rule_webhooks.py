"""Outgoing webhooks of automation rules: a `webhook_deliveries` row is written when the rule fires
(outside any transaction of the event that triggered it) and a job POSTs it, signed with
HMAC-SHA256 like the api_channel (``X-Relaydesk-Signature: t=<ts>,v1=<hex>``, secret from the
environment variable the rule names). Transient failures (network, 408/425/429, 5xx) retry with
backoff (Retry-After honoured) up to MAX_ATTEMPTS; other 4xx fail at once with the reason. The row is
the truth: `sweep` re-enqueues pending rows whose time has come, so a lost queue loses nothing.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from core import clock

if TYPE_CHECKING:
    from core.desk import Desk

log = logging.getLogger("relaydesk.rules.webhooks")

MAX_ATTEMPTS = 6
LEASE = timedelta(seconds=60)
TIMEOUT_SECONDS = 10.0
HEADER = "x-relaydesk-signature"


def backoff(attempts: int) -> float:
    """10 s, 20 s, 40 s ... capped at 10 minutes."""
    return float(min(600, 10 * 2 ** max(0, attempts - 1)))


async def queue(desk: "Desk", rule_id: int, ticket_id: int | None, url: str, secret_env: str | None,
                payload: dict[str, Any]) -> int:
    from core.tables import WebhookDelivery

    now = clock.now()
    rows = await WebhookDelivery.insert(WebhookDelivery(
        rule=rule_id, ticket=ticket_id, url=url, secret_env=secret_env,
        body=json.dumps(payload, ensure_ascii=False, default=str), status="pending", attempts=0,
        next_attempt_at=now, created_at=now, updated_at=now)).returning(WebhookDelivery.id)
    delivery_id = rows[0]["id"]
    await desk.enqueue("rule_webhook", delivery_id, job_id=f"rule_webhook:{delivery_id}:0")
    return delivery_id


async def deliver(desk: "Desk", delivery_id: int) -> str:
    """One attempt. Returns the row's status afterwards ("done", "pending" to retry, "failed", or
    "skipped" when another attempt holds the row or it is not due)."""
    import httpx

    from core.tables import WebhookDelivery

    now = clock.now()
    claimed = await WebhookDelivery.update({WebhookDelivery.next_attempt_at: now + LEASE, WebhookDelivery.updated_at: now}).where(
        (WebhookDelivery.id == delivery_id) & (WebhookDelivery.status == "pending")
        & (WebhookDelivery.next_attempt_at <= now)).returning(WebhookDelivery.id)
    if not claimed:
        return "skipped"
    row = await WebhookDelivery.select().where(WebhookDelivery.id == delivery_id).first()
    attempts = row["attempts"] + 1
    body = row["body"].encode()
    headers = {"content-type": "application/json", "idempotency-key": f"relaydesk-{desk.desk_id}-rule-webhook-{delivery_id}",
               "user-agent": "Relaydesk rule webhook"}
    if row["secret_env"]:
        secret = os.environ.get(row["secret_env"])
        if not secret:
            return await _finish(delivery_id, attempts, "failed",
                                 f"environment variable {row['secret_env']} (the signing secret) is not set")
        from core.webhooks import sign_timestamped

        headers[HEADER] = sign_timestamped(secret, body)
    retry_after = None
    from core import urlguard

    try:
        async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS, follow_redirects=False) as client:
            response = await urlguard.request(client, "POST", row["url"], content=body, headers=headers)
    except urlguard.UrlRefused as exc:  # checked again at send time: the host may resolve elsewhere now
        return await _finish(delivery_id, attempts, "failed", exc.message)
    except httpx.HTTPError as exc:
        error, retryable = f"could not reach {row['url']}: {type(exc).__name__}: {exc}", True
    else:
        if response.status_code < 300:
            return await _finish(delivery_id, attempts, "done", None)
        retryable = response.status_code >= 500 or response.status_code in (408, 425, 429)
        error = f"{row['url']} answered {response.status_code}: {response.text[:300]}"
        try:
            retry_after = min(600.0, float(response.headers.get("retry-after") or "")) if retryable else None
        except ValueError:
            retry_after = None
    if not retryable or attempts >= MAX_ATTEMPTS:
        return await _finish(delivery_id, attempts, "failed", error)
    delay = retry_after if retry_after is not None else backoff(attempts)
    await WebhookDelivery.update({WebhookDelivery.attempts: attempts, WebhookDelivery.last_error: error,
                                  WebhookDelivery.next_attempt_at: clock.now() + timedelta(seconds=delay),
                                  WebhookDelivery.updated_at: clock.now()}).where(WebhookDelivery.id == delivery_id)
    await desk.enqueue("rule_webhook", delivery_id, job_id=f"rule_webhook:{delivery_id}:{attempts}", defer=delay)
    return "pending"


async def _finish(delivery_id: int, attempts: int, status: str, error: str | None) -> str:
    from core.tables import WebhookDelivery

    if status == "failed":
        log.warning("rule webhook %s failed for good: %s", delivery_id, error)
    await WebhookDelivery.update({WebhookDelivery.status: status, WebhookDelivery.attempts: attempts,
                                  WebhookDelivery.last_error: error, WebhookDelivery.updated_at: clock.now()}).where(
        WebhookDelivery.id == delivery_id)
    return status


async def sweep(desk: "Desk", limit: int = 500) -> int:
    """Re-enqueue pending deliveries that are due and that no attempt holds (index status, next_attempt_at)."""
    from core.tables import WebhookDelivery

    rows = await WebhookDelivery.select(WebhookDelivery.id, WebhookDelivery.attempts).where(
        (WebhookDelivery.status == "pending") & (WebhookDelivery.next_attempt_at <= clock.now())).limit(limit)
    for row in rows:
        await desk.enqueue("rule_webhook", row["id"], job_id=f"rule_webhook:{row['id']}:{row['attempts']}")
    return len(rows)


async def deliver_job(ctx: dict[str, Any], delivery_id: int) -> str:
    return await deliver(ctx["desk"], delivery_id)


async def sweep_job(ctx: dict[str, Any]) -> int:
    return await sweep(ctx["desk"])
