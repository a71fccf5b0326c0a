"""Live (SSE) streams end at once when uvicorn is told to stop, instead of being cancelled.

A live stream never finishes by itself. On SIGTERM uvicorn waits `timeout_graceful_shutdown` for
open responses, then cancels them and logs an ERROR ("Cancel N running task(s)") and one traceback
per stream: every deploy looked like a crash, and a stream whose client reset its connection after
the signal lingered until then (uvicorn stops reading from connections it is shutting down). Here
the signal also ends every subscriber of the live channel, so each stream sends its last chunk,
unsubscribes and closes like any finished response; browsers reconnect (EventSource) to another
process or to the restarted one.

uvicorn handles SIGTERM and SIGINT with `signal.signal` in every server process (with `--workers N`
too); the app chains its own step in front of uvicorn's handler while it runs, and only when that
handler is uvicorn's, so test clients and other servers are left alone.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from typing import Any, Callable

log = logging.getLogger("relaydesk.web")

SIGNALS = (signal.SIGTERM, signal.SIGINT)


def end_live_streams(plugin: Any) -> int:
    """End every live stream of this process: each subscriber's event stream gets its end marker
    (litestar's Subscriber.iter_events stops at None). Returns how many were ended."""
    subscribers = {s for channel in list(plugin._channels.values()) for s in channel}
    for subscriber in subscribers:
        subscriber.put_nowait(None)
    return len(subscribers)


def _is_uvicorns(handler: Any) -> bool:
    owner = getattr(handler, "__self__", None)
    return type(owner).__module__.startswith("uvicorn.") if owner is not None else False


def on_stop_signal(action: Callable[[], Any]) -> Callable[[], None]:
    """Run `action` on the event loop when uvicorn receives SIGTERM or SIGINT, before uvicorn's own
    handling. Returns the function that puts uvicorn's handlers back."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    loop = asyncio.get_running_loop()
    previous = {sig: signal.getsignal(sig) for sig in SIGNALS}
    installed = {}
    for sig, handler in previous.items():
        if not _is_uvicorns(handler):
            continue

        def chained(signum: int, frame: Any, handler: Any = handler) -> None:
            loop.call_soon_threadsafe(action)  # a signal handler must not touch the loop directly
            handler(signum, frame)

        signal.signal(sig, chained)
        installed[sig] = chained

    def restore() -> None:
        for sig, chained in installed.items():
            if signal.getsignal(sig) is chained:
                signal.signal(sig, previous[sig])

    return restore


def close_live_streams_on_stop(plugin: Any) -> Callable[[], None]:
    def stop() -> None:
        ended = end_live_streams(plugin)
        if ended:
            log.info("stopping: closed %d live stream(s); browsers reconnect by themselves", ended)

    return on_stop_signal(stop)
