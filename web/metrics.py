"""Prometheus metrics of this process."""

from typing import Any, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily

REGISTRY = CollectorRegistry()
WEBHOOKS = Counter("relaydesk_webhooks_total", "Webhook requests by plugin and outcome", ["plugin", "outcome"],
                   registry=REGISTRY)
INGESTED = Counter("relaydesk_messages_ingested_total", "Inbound messages stored", ["plugin"], registry=REGISTRY)
DUPLICATES = Counter("relaydesk_messages_duplicate_total", "Inbound messages already stored", ["plugin"],
                     registry=REGISTRY)
WEBHOOK_SECONDS = Histogram("relaydesk_webhook_seconds", "Time from webhook receipt to acknowledgement",
                            ["plugin"], registry=REGISTRY)


class _GroupCommitCollector:
    """Ingest's group commit: transactions committed and the deliveries they stored (their ratio is
    the mean batch size; near 1 on a quiet desk, higher under a burst)."""

    def collect(self) -> Iterator[Any]:
        from core.inbound import commit_stats

        transactions, deliveries = commit_stats()
        yield CounterMetricFamily("relaydesk_ingest_transactions", "Ingest transactions committed", value=transactions)
        yield CounterMetricFamily("relaydesk_ingest_deliveries", "Deliveries (webhooks, polled batches) stored by them",
                                  value=deliveries)


REGISTRY.register(_GroupCommitCollector())


class _PasswordCollector:
    """Password verifications (argon2): one per sign-in attempt, known account or not."""

    def collect(self) -> Iterator[Any]:
        from core.auth import password_checks

        yield CounterMetricFamily("relaydesk_password_checks", "Password verifications run", value=password_checks())


REGISTRY.register(_PasswordCollector())
