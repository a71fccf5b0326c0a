"""Prometheus metrics that the core records wherever it runs (a web process, a worker, the embedded
desk): deliveries, jobs, ingest failures and answers refused while a dependency was down.

In a web process started by `relaydesk serve` they live in Prometheus multiprocess files (one
folder per desk, see web.metrics), so /metrics is the sum of every web process. A worker sends its
own figures with its heartbeat (core.heartbeat) and /metrics adds them in.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics

# `_created` samples cannot be summed across processes; without them every family adds up.
disable_created_metrics()

REGISTRY = CollectorRegistry()  # the desk's metrics (web.metrics adds the web layer's)
DELIVERIES = Counter("relaydesk_deliveries", "Delivery attempts of replies by outcome (sent, retry, failed)",
                     ["outcome"], registry=REGISTRY)
JOB_SECONDS = Histogram("relaydesk_job_seconds", "Job run time by job and outcome (ok, error, retry, cancelled)",
                        ["job", "outcome"], registry=REGISTRY,
                        buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300))
INGEST_FAILURES = Counter("relaydesk_ingest_failures", "Webhooks and polls that stored nothing, by plugin and reason",
                          ["plugin", "reason"], registry=REGISTRY)
UNAVAILABLE = Counter("relaydesk_unavailable_responses", "Requests answered 503 because a dependency was down",
                      ["dependency"], registry=REGISTRY)
INGEST_TRANSACTIONS = Counter("relaydesk_ingest_transactions", "Ingest transactions committed", registry=REGISTRY)
PASSWORD_CHECKS = Counter("relaydesk_password_checks", "Password verifications run (one per sign-in attempt, "
                          "known account or not)", registry=REGISTRY)
INGEST_DELIVERIES = Counter("relaydesk_ingest_deliveries", "Deliveries (webhooks, polled batches) stored by them",
                            registry=REGISTRY)

# Families a worker reports with its heartbeat (what it does that a web process does not see).
WORKER_FAMILIES = ("relaydesk_deliveries", "relaydesk_job_seconds", "relaydesk_ingest_failures",
                   "relaydesk_ingest_transactions", "relaydesk_ingest_deliveries")
