"""Prometheus metrics of this process."""

from prometheus_client import CollectorRegistry, Counter, Histogram

REGISTRY = CollectorRegistry()
WEBHOOKS = Counter("relaydesk_webhooks_total", "Webhook requests by plugin and outcome", ["plugin", "outcome"],
                   registry=REGISTRY)
INGESTED = Counter("relaydesk_messages_ingested_total", "Inbound messages stored", ["plugin"], registry=REGISTRY)
DUPLICATES = Counter("relaydesk_messages_duplicate_total", "Inbound messages already stored", ["plugin"],
                     registry=REGISTRY)
WEBHOOK_SECONDS = Histogram("relaydesk_webhook_seconds", "Time from webhook receipt to acknowledgement",
                            ["plugin"], registry=REGISTRY)
