"""A clock the test moves. Everything in the desk asks core.clock.now(); the plugin API's `clock`
is the same module, so a plugin that reads the time through it follows the test's clock too."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from core import clock

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)  # a Monday


class ControlledClock:
    """Installed by the `controlled_clock` fixture, starting at T0 (or `start`); removed after
    the test. `clock(when)` or `clock.set(when)` moves it to a time, `clock.advance(minutes=5)`
    forward; it never moves by itself."""

    def __init__(self, start: datetime = T0) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current

    def set(self, when: datetime) -> datetime:
        if when.tzinfo is None:
            raise ValueError("the desk's clock is timezone-aware: pass a datetime with tzinfo")
        self.current = when
        return when

    __call__ = set

    def advance(self, **delta: float) -> datetime:
        return self.set(self.current + timedelta(**delta))

    def install(self) -> "ControlledClock":
        clock.set_clock(self.now)
        return self

    def uninstall(self) -> None:
        clock.set_clock(None)


class ShiftedClock:
    """The wall clock moved by an offset (it keeps running): `shifted_clock(timedelta(hours=25))`
    shows what a running desk does a day later, e.g. after a messaging window closed."""

    def __init__(self) -> None:
        from datetime import datetime as _datetime

        self.offset = timedelta(0)
        self._wall = lambda: _datetime.now(timezone.utc)

    def now(self) -> datetime:
        return self._wall() + self.offset

    def __call__(self, offset: timedelta) -> datetime:
        self.offset = offset
        return self.now()

    def install(self) -> "ShiftedClock":
        clock.set_clock(self.now)
        return self

    def uninstall(self) -> None:
        clock.set_clock(None)
