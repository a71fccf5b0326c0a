"""Benchmark the volume forecast (core/reports/forecast.py) on a generated history with known
seasonality: a weekly pattern, a slow trend, noise, and two peaks every year (11.11 at four times
an ordinary day with a climb the days before, Black Friday at two and a half times). The
backtest refits at rolling origins a week apart through the peak season and forecasts 14 days
from each; its error (MAPE, sMAPE) is set beside the seasonal-naive forecast's (the same
weekday a week earlier). The last line is one JSON object: mape, baseline_mape, improvement
(1 - mape / baseline_mape; the target is >= 0.2) and seconds per fit.

  python bench/forecast.py --quick   # 4 origins
  python bench/forecast.py           # 10 origins
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.reports import forecast  # noqa: E402

WEEKLY = [1.1, 1.05, 1.0, 1.0, 0.95, 0.7, 0.6]  # Monday first
PEAK = {-3: 1.3, -2: 1.6, -1: 2.2, 0: 4.0, 1: 1.8, 2: 1.3}  # around 11.11


def history(seed: int, end: date) -> tuple[list[date], list[float]]:
    rng = random.Random(seed)
    start = date(end.year - 2, 6, 1)
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    values = []
    for i, day in enumerate(days):
        level = 120 * (1 + 0.0004 * i) * WEEKLY[day.weekday()]
        level *= PEAK.get((day - date(day.year, 11, 11)).days, 1.0)
        if day == forecast.black_friday(day.year):
            level *= 2.5
        values.append(max(0.0, round(rng.gauss(level, level * 0.08))))
    return days, values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="4 rolling origins instead of 10")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    origins = 4 if args.quick else 10
    days, values = history(args.seed, date(2026, 12, 6))  # the last origin's 14 days end here
    started = time.perf_counter()
    result = forecast.backtest(days, values, origins=origins, step=7, horizon=14)
    seconds = time.perf_counter() - started
    print(f"history {days[0]} .. {days[-1]} ({len(days)} days); {result['origins']} origins x {result['horizon']} days")
    print(f"model          MAPE {result['mape']:5.1f}%   sMAPE {result['smape']:5.1f}%")
    print(f"seasonal-naive MAPE {result['baseline_mape']:5.1f}%   sMAPE {result['baseline_smape']:5.1f}%")
    improvement = 1 - result["mape"] / result["baseline_mape"]
    print(f"improvement {improvement:.0%} (target >= 20%); {seconds / result['origins']:.2f} s per fit")
    print(json.dumps({"mape": result["mape"], "baseline_mape": result["baseline_mape"], "smape": result["smape"],
                      "baseline_smape": result["baseline_smape"], "improvement": round(improvement, 3),
                      "origins": result["origins"], "seconds_per_fit": round(seconds / result["origins"], 2)}))


if __name__ == "__main__":
    main()
