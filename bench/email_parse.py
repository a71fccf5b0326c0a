"""Benchmark the email parser on the shared real-world corpus.

Parses every corpus mail with plugins.email.parse.parse_email, and, in the same run, with a
bare `email.message_from_bytes(raw, policy=email.policy.default)` as the baseline. Reports
messages/s on one core (single process), the ratio to the baseline, how many mails parsed
without raising, and the pass rate of the corpus expectations (tests/plugins/email/test_corpus.py).
Then it stores every mail through the email plugin's receive() and the core's ingest in a
throwaway SQLite database (untimed): `parsed` counts the mails that parsed and went through ingest
without an exception (stored, or recognised as a duplicate or a delivery report).
The last line of output is one JSON object.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import importlib.util
import json
import sys
import time
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from plugins.email.parse import parse_email  # noqa: E402


def _corpus_module() -> ModuleType:
    # The test module owns corpus discovery and expectations; loaded by path so the bench
    # needs neither pytest configuration nor tests/ on sys.path.
    path = REPO / "tests" / "plugins" / "email" / "test_corpus.py"
    spec = importlib.util.spec_from_file_location("relaydesk_email_corpus", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


async def _store_all(raws: list[bytes]) -> dict[str, int]:
    """Ingest every mail into a fresh SQLite database; count what happened to each."""
    import contextlib
    import io
    import tempfile

    from core.config import settings_from_dict
    from core.desk import Desk
    from core.inbound import ingest
    from plugins.email.receive import receive

    with tempfile.TemporaryDirectory(prefix="rd-bench-") as folder:
        config = {"relaydesk": {"database": f"sqlite:///{folder}/bench.db", "data_dir": f"{folder}/data"},
                  "plugins": {"enabled": ["email"], "email": {"accounts": {"bench": {
                      "from_address": "support@shop.example", "auto_replies_open_tickets": True,
                      "rate_limit_per_hour": 0}}}}}
        desk = Desk(settings_from_dict(config, "bench-plugins.toml"))
        with contextlib.redirect_stdout(io.StringIO()):  # piccolo prints each migration it runs
            await desk.start(run_jobs=False, migrate=True)
        account = desk.registry.account("email", "bench")
        counts = {"ok": 0, "stored": 0, "duplicates": 0, "delivery_reports": 0, "skipped": 0, "failed": 0}
        try:
            for raw in raws:
                try:
                    received = receive(raw, account.settings, account.name)
                    results = await ingest(desk, account, received.messages, received.statuses)
                except Exception as exc:  # noqa: BLE001 - counting failures is the point
                    counts["failed"] += 1
                    print(f"NOT STORED: {type(exc).__name__}: {exc}"[:300])
                    continue
                counts["ok"] += 1
                counts["stored"] += sum(1 for r in results if not r.duplicate and not r.skipped)
                counts["duplicates"] += sum(1 for r in results if r.duplicate)
                counts["skipped"] += sum(1 for r in results if r.skipped)
                counts["delivery_reports"] += len(received.statuses)
        finally:
            await desk.stop()
    return counts


def _time(fn, raws: list[bytes], repeat: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        for raw in raws:
            fn(raw)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one timed pass (for CI smoke runs)")
    parser.add_argument("--repeat", type=int, default=20, help="timed passes over the corpus (default 20)")
    args = parser.parse_args(argv)
    repeat = 1 if args.quick else max(1, args.repeat)

    corpus = _corpus_module()
    files = corpus.mail_files()
    raws = [p.read_bytes() for p in files]

    parsed = 0
    for path, raw in zip(files, raws):
        try:
            parse_email(raw)
            parsed += 1
        except Exception as exc:  # noqa: BLE001 - counting failures is the point
            print(f"RAISED {path}: {type(exc).__name__}: {exc}")

    expectations = corpus.all_expectations()
    failed = [e.name for e in expectations if corpus.mismatches(e, parse_email(corpus.raw_for(e)))]

    baseline = lambda raw: email.message_from_bytes(raw, policy=email.policy.default)  # noqa: E731
    _time(parse_email, raws, 1)  # warm-up: imports, regex compilation, detector models
    _time(baseline, raws, 1)
    ours_s = _time(parse_email, raws, repeat)
    base_s = _time(baseline, raws, repeat)
    count = len(raws) * repeat
    per_s = count / ours_s
    base_per_s = count / base_s

    import asyncio

    without_raising = parsed
    store = asyncio.run(_store_all(raws))
    parsed = min(without_raising, store["ok"])

    size_mb = sum(map(len, raws)) / 1e6
    print(f"corpus: {len(raws)} mails, {size_mb:.1f} MB, {repeat} timed pass(es)")
    print(f"parse_email:       {per_s:8.1f} messages/s per core")
    print(f"baseline (stdlib): {base_per_s:8.1f} messages/s per core  (message_from_bytes, policy.default)")
    print(f"ratio:             {per_s / base_per_s:8.2f}x the baseline")
    print(f"parsed:            {without_raising}/{len(raws)} without raising; {parsed}/{len(raws)} through ingest "
          f"({store['stored']} stored, {store['duplicates']} duplicates, {store['delivery_reports']} delivery "
          f"reports, {store['skipped']} skipped, {store['failed']} failed)")
    passed = len(expectations) - len(failed)
    print(f"expectations:      {passed}/{len(expectations)} passed ({passed / len(expectations):.1%})")
    for name in failed:
        print(f"  FAILED {name}")
    print(json.dumps({
        "messages_per_s": round(per_s, 1),
        "parsed": parsed,
        "stored": store["stored"],
        "total": len(raws),
        "baseline_per_s": round(base_per_s, 1),
        "ratio": round(per_s / base_per_s, 3),
        "expectations_passed": passed,
        "expectations_total": len(expectations),
        "pass_rate": round(passed / len(expectations), 4),
        "repeat": repeat,
    }))
    return 0 if parsed == len(raws) and not failed else 1


if __name__ == "__main__":
    raise SystemExit(main())
