"""`/hooks/{plugin}/{account}`: the channel plugin verifies and parses, the core stores, and only
then does the platform get its 2xx."""

from __future__ import annotations

import logging
import time
from typing import Any

from litestar import Request, Response, route

from core.errors import InvalidRequest, NotFound
from core.inbound import ingest
from core.metrics import INGEST_FAILURES
from core.outage import failure_reason
from core.types import WebhookRequest
from core.withdrawals import withdraw
from web.metrics import DUPLICATES, INGESTED, INVALID_EVENTS, WEBHOOK_SECONDS, WEBHOOKS

log = logging.getLogger("relaydesk.web")


@route("/hooks/{plugin:str}/{account:str}", http_method=["GET", "POST"], include_in_schema=False)
async def webhook(request: Request, plugin: str, account: str) -> Response:
    desk = request.app.state.desk
    acct = desk.registry.account(plugin, account)
    if acct is None:
        WEBHOOKS.labels(plugin=plugin[:32], outcome="unknown_account").inc()
        INGEST_FAILURES.labels(plugin=plugin[:32], reason="unknown_account").inc()
        raise NotFound(f"no account {account!r} is configured for plugin {plugin!r}")
    try:
        return await _take(request, desk, acct, plugin)
    except Exception as exc:
        # every webhook that stored nothing, by why: the platform's retry will bring it again
        INGEST_FAILURES.labels(plugin=plugin, reason=failure_reason(exc)).inc()
        raise


async def _take(request: Request, desk: Any, acct: Any, plugin: str) -> Response:
    started = time.perf_counter()
    body = await request.body()  # the route's size limit answers 413 before we read too much
    hook_request = WebhookRequest(
        method=request.method, path=request.url.path,
        headers={k.lower(): v for k, v in request.headers.items()},
        query={k: v for k, v in request.query_params.items()}, body=body, desk_id=desk.desk_id,
    )
    try:
        result = desk.registry.hook.parse_webhook(channel_type=acct.channel_type, account=acct, request=hook_request)
    except Exception as exc:
        WEBHOOKS.labels(plugin=plugin, outcome=getattr(exc, "code", "error")).inc()
        raise
    if result is None:
        raise InvalidRequest(f"plugin {plugin!r} does not take webhooks for channel type {acct.channel_type!r}")
    if result.invalid:
        # The platform batches events and retries the whole body for one bad event: the valid ones
        # are stored, the invalid ones are counted and logged (what was wrong, never the values).
        INVALID_EVENTS.labels(plugin=plugin).inc(len(result.invalid))
        log.warning("%s/%s: skipped %d invalid event(s): %s", plugin, acct.name, len(result.invalid),
                    "; ".join(result.invalid[:5]))
    results = await ingest(desk, acct, result.messages, result.statuses) if (result.messages or result.statuses) else []
    withdrawn = await withdraw(desk, acct, result.withdrawals) if result.withdrawals else 0
    if result.apply is not None:  # the plugin's own data (order caches...): committed before the 2xx
        await result.apply(desk)
    stored = sum(1 for r in results if not r.duplicate)
    INGESTED.labels(plugin=plugin).inc(stored)
    DUPLICATES.labels(plugin=plugin).inc(len(results) - stored)
    WEBHOOKS.labels(plugin=plugin, outcome="ok").inc()
    WEBHOOK_SECONDS.labels(plugin=plugin).observe(time.perf_counter() - started)
    if result.reply is not None:
        return Response(result.reply.body, status_code=result.reply.status_code, media_type=result.reply.content_type)
    return Response({
        "accepted": len(results), "stored": stored, "duplicates": len(results) - stored,
        "statuses": len(result.statuses), "withdrawn": withdrawn, "invalid": len(result.invalid),
        "messages": [{"message_id": r.message_id, "ticket_id": r.ticket_id, "duplicate": r.duplicate} for r in results],
    }, status_code=200)
