"""Benchmark the email parser on the shared real-world corpus.

Parses every corpus mail with plugins.email.parse.parse_email, and, in the same run, with a
bare `email.message_from_bytes(raw, policy=email.policy.default)` as the baseline. Reports
messages/s on one core (single process), the ratio to the baseline, how many mails parsed
without raising, and the pass rate of the corpus expectations (tests/plugins/email/test_corpus.py).
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
    known = set(corpus.KNOWN_DIFFERENCES)
    unexpected = [name for name in failed if name not in known]

    baseline = lambda raw: email.message_from_bytes(raw, policy=email.policy.default)  # noqa: E731
    _time(parse_email, raws, 1)  # warm-up: imports, regex compilation, detector models
    _time(baseline, raws, 1)
    ours_s = _time(parse_email, raws, repeat)
    base_s = _time(baseline, raws, repeat)
    count = len(raws) * repeat
    per_s = count / ours_s
    base_per_s = count / base_s

    size_mb = sum(map(len, raws)) / 1e6
    print(f"corpus: {len(raws)} mails, {size_mb:.1f} MB, {repeat} timed pass(es)")
    print(f"parse_email:       {per_s:8.1f} messages/s per core")
    print(f"baseline (stdlib): {base_per_s:8.1f} messages/s per core  (message_from_bytes, policy.default)")
    print(f"ratio:             {per_s / base_per_s:8.2f}x the baseline")
    print(f"parsed:            {parsed}/{len(raws)} without raising")
    passed = len(expectations) - len(failed)
    print(f"expectations:      {passed}/{len(expectations)} passed ({passed / len(expectations):.1%}); "
          f"{len(known)} documented differences, {len(unexpected)} unexpected failures")
    for name in unexpected:
        print(f"  UNEXPECTED {name}")
    print(json.dumps({
        "messages_per_s": round(per_s, 1),
        "parsed": parsed,
        "total": len(raws),
        "baseline_per_s": round(base_per_s, 1),
        "ratio": round(per_s / base_per_s, 3),
        "expectations_passed": passed,
        "expectations_total": len(expectations),
        "pass_rate": round(passed / len(expectations), 4),
        "repeat": repeat,
    }))
    return 0 if parsed == len(raws) and not unexpected else 1


if __name__ == "__main__":
    raise SystemExit(main())
