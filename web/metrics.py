"""/metrics: the desk's totals, whichever web process answers.

- Web processes started by `relaydesk serve --workers N` share a Prometheus multiprocess folder, one
  per desk (web.metrics_folder), so counters and histograms are summed over every process.
- Workers report their own figures with their heartbeats (core.heartbeat); they are added in.
- Figures the database knows (outbox depth and age, workers alive) are read at scrape time.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from typing import Any, Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric

from core.metrics import REGISTRY

WEBHOOKS = Counter("relaydesk_webhooks_total", "Webhook requests by plugin and outcome", ["plugin", "outcome"],
                   registry=REGISTRY)
INGESTED = Counter("relaydesk_messages_ingested_total", "Inbound messages stored", ["plugin"], registry=REGISTRY)
DUPLICATES = Counter("relaydesk_messages_duplicate_total", "Inbound messages already stored", ["plugin"],
                     registry=REGISTRY)
INVALID_EVENTS = Counter("relaydesk_webhook_invalid_events_total",
                         "Events in an accepted webhook body skipped for not matching the platform's format",
                         ["plugin"], registry=REGISTRY)
WEBHOOK_SECONDS = Histogram("relaydesk_webhook_seconds", "Time from webhook receipt to acknowledgement",
                            ["plugin"], registry=REGISTRY)

from web.metrics_folder import MULTIPROC_ENV  # noqa: E402


def _local_families() -> list[Metric]:
    folder = os.environ.get(MULTIPROC_ENV)
    if folder:
        from prometheus_client.multiprocess import MultiProcessCollector

        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=folder)
        return list(registry.collect())
    return list(REGISTRY.collect())


def add_worker_figures(families: list[Metric], snapshots: Iterable[str]) -> None:
    """Sum each worker's reported samples into the families of the same name."""
    by_name = {f.name: f for f in families}
    for snapshot in snapshots:
        try:
            reported = json.loads(snapshot or "[]")
        except ValueError:
            continue
        for name, kind, documentation, samples in reported:
            family = by_name.get(name)
            if family is None:
                family = by_name[name] = Metric(name, documentation, kind)
                families.append(family)
            index = {(s.name, tuple(sorted(s.labels.items()))): i for i, s in enumerate(family.samples)}
            for sample_name, labels, value in samples:
                key = (sample_name, tuple(sorted(labels.items())))
                if key in index:
                    old = family.samples[index[key]]
                    family.samples[index[key]] = old._replace(value=old.value + value)
                else:
                    index[key] = len(family.samples)
                    family.add_sample(sample_name, labels, value)


def desk_families(outbox: dict[str, Any], workers: list[dict[str, Any]], now: datetime,
                  heartbeat_timeout: float) -> list[Metric]:
    depth = GaugeMetricFamily("relaydesk_outbox_pending", "Replies waiting to be delivered")
    depth.add_metric([], outbox["pending"])
    age = GaugeMetricFamily("relaydesk_outbox_oldest_age_seconds", "Age of the oldest reply waiting to be delivered")
    age.add_metric([], outbox["oldest_age"])
    alive = GaugeMetricFamily("relaydesk_workers_alive", "Workers whose heartbeat is recent")
    last = GaugeMetricFamily("relaydesk_worker_heartbeat_age_seconds", "Seconds since each worker's last heartbeat",
                             labels=["worker", "state"])
    count = 0
    for worker in workers:
        seconds = max(0.0, (now - worker["seen_at"]).total_seconds())
        last.add_metric([worker["name"], worker["state"]], seconds)
        if seconds <= heartbeat_timeout and worker["state"] != "stopped":
            count += 1
    alive.add_metric([], count)
    return [depth, age, alive, last]


class _Families:
    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> list[Metric]:
        return self.families


def exposition(families: list[Metric]) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Families(families))
    return generate_latest(registry)


def local_families() -> list[Metric]:
    return _local_families()
