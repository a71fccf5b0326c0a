"""Volume forecast: new tickets per day for the next 90 days and per hour for the next 14, per
channel or in total, with event days (11.11, Black Friday, ...) lifted by what they did last year.

Method (docs/reports.md):
1. Event days in the history (and a few days either side) are set aside: their value is replaced
   by the median of the same weekday in the four weeks around, so a peak does not bend the model.
2. statsmodels' Holt-Winters exponential smoothing (ExponentialSmoothing: damped additive trend,
   additive weekly seasonality on log(1 + volume)) is fitted to that cleaned daily history and
   forecasts the ordinary days. statsmodels, not a hand-written model: a well-kept library with
   the estimation (maximum likelihood) and its tests done properly, installable from PyPI wheels.
3. Each event day of the horizon is lifted by the ratio between what that event's day (and each
   day around it) did in this desk's history and the cleaned baseline there; with no history, by
   the multiplier an admin set for the event (1.0 when none).
4. Hours: each forecast day is spread over its hours by the share each hour of that weekday had
   over the last eight weeks (local time).
The backtest refits at several origins (rolling origin) and compares the error (MAPE and sMAPE)
with the seasonal-naive forecast (the same weekday a week earlier).

Everything here is pure computation on lists (the bench and the tests need no database); `load`
reads the daily and hourly volumes from the rollups.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from statistics import median
from typing import Any, Iterable

WINDOW = 2  # days either side of an event day that get their own lift
MIN_HISTORY_DAYS = 28
FIT_DAYS = 182  # the model is fitted to the last half year: the recent level and trend matter, and it stays fast
# Chinese New Year (the first day), for the built-in event; an admin adds other years as dates.
CHINESE_NEW_YEAR = {2024: date(2024, 2, 10), 2025: date(2025, 1, 29), 2026: date(2026, 2, 17),
                    2027: date(2027, 2, 6), 2028: date(2028, 1, 26), 2029: date(2029, 2, 13), 2030: date(2030, 2, 3)}


def black_friday(year: int) -> date:
    """The day after the fourth Thursday of November."""
    first = date(year, 11, 1)
    thursday = first + timedelta(days=(3 - first.weekday()) % 7)
    return thursday + timedelta(days=22)


def builtin_events(year: int) -> dict[str, date]:
    out = {"11.11": date(year, 11, 11), "black_friday": black_friday(year),
           "cyber_monday": black_friday(year) + timedelta(days=3), "6.18": date(year, 6, 18)}
    if year in CHINESE_NEW_YEAR:
        out["chinese_new_year"] = CHINESE_NEW_YEAR[year]
    return out


@dataclass(slots=True)
class Event:
    """An event: built in (by name) or an admin's dated one (Prime Day's dates change every year)."""

    name: str
    days: list[date] = field(default_factory=list)  # an admin's dates (every year's)
    multiplier: float | None = None  # used when the history has no such day

    def dates(self, years: Iterable[int]) -> list[date]:
        out = list(self.days)
        for year in years:
            day = builtin_events(year).get(self.name)
            if day is not None:
                out.append(day)
        return sorted(set(out))


DEFAULT_EVENTS = ("11.11", "black_friday", "cyber_monday", "6.18", "chinese_new_year")


@dataclass(slots=True)
class Forecast:
    days: list[date]
    values: list[float]
    lifts: dict[str, dict[int, float]]  # event -> offset (days from the event) -> lift applied
    method: str


def _event_offsets(events: list[Event], years: Iterable[int]) -> dict[date, tuple[str, int]]:
    """Each date within WINDOW of an event day -> (event, offset); the nearest event wins."""
    out: dict[date, tuple[str, int]] = {}
    for event in events:
        for day in event.dates(years):
            for offset in range(-WINDOW, WINDOW + 1):
                when = day + timedelta(days=offset)
                if when not in out or abs(out[when][1]) > abs(offset):
                    out[when] = (event.name, offset)
    return out


def _cleaned(days: list[date], values: list[float], marked: dict[date, tuple[str, int]]) -> list[float]:
    """Event days replaced by the median of the same weekday in the four weeks around (unmarked ones)."""
    index = {d: i for i, d in enumerate(days)}
    out = list(values)
    for i, day in enumerate(days):
        if day not in marked:
            continue
        near = [values[index[d]] for k in (-21, -14, -7, 7, 14, 21)
                if (d := day + timedelta(days=k)) in index and d not in marked]
        if near:
            out[i] = median(near)
    return out


def _holt_winters(values: list[float], horizon: int) -> list[float]:
    import warnings

    import numpy as np
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    series = np.log1p(np.asarray(values, dtype=float))
    with warnings.catch_warnings():  # convergence chatter on short or flat histories
        warnings.simplefilter("ignore")
        fitted = ExponentialSmoothing(series, trend="add", damped_trend=True, seasonal="add",
                                      seasonal_periods=7, initialization_method="heuristic").fit()
        predicted = fitted.forecast(horizon)
    return [max(0.0, float(math.expm1(v))) for v in predicted]


def seasonal_naive(values: list[float], horizon: int) -> list[float]:
    """The baseline: each day as the same weekday in the last week of the history."""
    last_week = values[-7:]
    return [float(last_week[h % 7]) for h in range(horizon)]


def daily(days: list[date], values: list[float], horizon: int, events: list[Event] | None = None) -> Forecast:
    """Forecast `horizon` days after days[-1] from a gap-free daily history."""
    if len(values) < MIN_HISTORY_DAYS:
        raise ValueError(f"a forecast needs at least {MIN_HISTORY_DAYS} days of history")
    events = list(events if events is not None else [Event(name) for name in DEFAULT_EVENTS])
    future = [days[-1] + timedelta(days=h + 1) for h in range(horizon)]
    years = range(days[0].year, future[-1].year + 1)
    marked = _event_offsets(events, years)
    clean = _cleaned(days, values, marked)
    base = _holt_winters(clean[-FIT_DAYS:], horizon)
    # What each event day did against the ordinary-day baseline, from the most recent year it happened.
    seen: dict[str, dict[int, float]] = {}
    for i, day in enumerate(days):
        if day in marked and clean[i] > 0:
            name, offset = marked[day]
            seen.setdefault(name, {})[offset] = values[i] / clean[i]
    by_name = {e.name: e for e in events}
    out, applied = [], {}
    for day, value in zip(future, base):
        if day in marked:
            name, offset = marked[day]
            lift = seen.get(name, {}).get(offset)
            if lift is None:
                lift = (by_name[name].multiplier or 1.0) if offset == 0 else 1.0
            applied.setdefault(name, {})[offset] = round(lift, 2)
            value *= lift
        out.append(value)
    return Forecast(future, out, applied, "holt-winters")


def hourly_profile(hours: list[tuple[int, int, float]]) -> list[list[float]]:
    """From (weekday, hour, volume) rows: each hour's share of its weekday (flat where nothing came)."""
    totals = [[0.0] * 24 for _ in range(7)]
    for weekday, hour, n in hours:
        totals[weekday][hour] += n
    out = []
    for row in totals:
        whole = sum(row)
        out.append([n / whole for n in row] if whole else [1 / 24] * 24)
    return out


def hourly(forecast: Forecast, profile: list[list[float]], days: int = 14) -> list[tuple[date, int, float]]:
    """(day, local hour, volume) for the first `days` days of a daily forecast."""
    return [(day, hour, value * profile[day.weekday()][hour])
            for day, value in list(zip(forecast.days, forecast.values))[:days] for hour in range(24)]


def errors(actual: list[float], predicted: list[float]) -> dict[str, float | None]:
    """MAPE over the days with volume, and sMAPE over all, in percent."""
    pairs = list(zip(actual, predicted))
    ape = [abs(a - p) / a for a, p in pairs if a > 0]
    smape = [2 * abs(a - p) / (abs(a) + abs(p)) for a, p in pairs if abs(a) + abs(p) > 0]
    return {"mape": round(100 * sum(ape) / len(ape), 1) if ape else None,
            "smape": round(100 * sum(smape) / len(smape), 1) if smape else None}


def backtest(days: list[date], values: list[float], *, origins: int = 6, step: int = 7, horizon: int = 14,
             events: list[Event] | None = None) -> dict[str, Any]:
    """Rolling origin: refit at `origins` points `step` days apart (the last one `horizon` days
    before the end), forecast `horizon` days from each, and compare with seasonal-naive."""
    model_actual, model_pred, naive_pred = [], [], []
    for k in range(origins):
        cut = len(values) - horizon - k * step
        if cut < MIN_HISTORY_DAYS:
            break
        actual = values[cut:cut + horizon]
        model_pred += daily(days[:cut], values[:cut], horizon, events).values
        naive_pred += seasonal_naive(values[:cut], horizon)
        model_actual += actual
    model, naive = errors(model_actual, model_pred), errors(model_actual, naive_pred)
    return {"origins": min(origins, k + 1) if values else 0, "horizon": horizon, "points": len(model_actual),
            "mape": model["mape"], "smape": model["smape"], "baseline_mape": naive["mape"],
            "baseline_smape": naive["smape"]}
