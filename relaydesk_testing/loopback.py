"""A small real HTTP server on 127.0.0.1 for the far ends of channels in tests (the `receiver`
fixture; subclass HttpFake for a platform that answers by rules).

It records every request and answers from a queue of scripted responses (default 200 JSON), so a
test can make the platform fail, throttle or hang up the way real platforms do.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Scripted:
    status: int = 200
    body: Any = field(default_factory=lambda: {"ok": True})
    headers: dict[str, str] = field(default_factory=dict)
    # Runs before answering; if it returns True the connection is dropped without a response.
    action: Callable[["Recorded"], bool] | None = None

    @classmethod
    def error(cls, status: int = 500, body: Any = None, **headers: str) -> "Scripted":
        """An error answer: `Scripted.error(400, {"error": "bad recipient"})`."""
        return cls(status=status, body={"error": "scripted"} if body is None else body, headers=headers)

    @classmethod
    def throttled(cls, retry_after: int = 30, body: Any = None) -> "Scripted":
        """429 Too Many Requests with a Retry-After header (seconds)."""
        return cls(status=429, body={"error": "rate limited"} if body is None else body,
                   headers={"retry-after": str(retry_after)})

    @classmethod
    def dropped(cls) -> "Scripted":
        """The connection closes without an answer (the request did arrive and is recorded)."""
        return cls(action=lambda _request: True)


Reply = tuple[int, Any, dict[str, str]]  # status, body (bytes, JSON-able, or None for none), headers


class HttpFake:
    """A real HTTP/1.1 server on 127.0.0.1 for a platform's far end. Subclasses answer each request
    in `respond(method, path, headers, body)` with (status, body, headers), or None to hang up
    without answering. A body that is not bytes goes out as JSON; header names are lower-cased
    on the way in."""

    def __init__(self) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                reply = outer.respond(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                if reply is None:
                    self.close_connection = True
                    self.connection.close()
                    return
                status, payload, headers = reply
                data = payload if isinstance(payload, bytes) else b"" if payload is None else json.dumps(payload).encode()
                self.send_response(status)
                if data and not any(k.lower() == "content-type" for k in headers):
                    self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def respond(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Reply | None:
        raise NotImplementedError

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self):  # returns self, so `Fake(...).start()` reads as one step
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _QuietServer(ThreadingHTTPServer):
    """A client that hangs up before the answer is written (a timeout the test provoked, a desk
    stopping) is no error of the fake's: it is not printed as a traceback in the test output."""

    def handle_error(self, request, client_address) -> None:  # noqa: ANN001
        import sys

        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)


class LoopbackServer(HttpFake):
    """Records every request and answers from the script (default: 200 JSON)."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.script: list[Scripted] = []
        self.default = Scripted()
        self._lock = threading.Lock()
        super().__init__()

    def answer(self, *replies: Scripted) -> "LoopbackServer":
        """Queue answers for the next requests, in order; after them the default (200 JSON)."""
        with self._lock:
            self.script.extend(replies)
        return self

    def respond(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Reply | None:
        record = Recorded(method, path, headers, body)
        with self._lock:
            self.requests.append(record)
            reply = self.script.pop(0) if self.script else self.default
        if reply.action and reply.action(record):
            return None
        payload = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
        return reply.status, payload, {"content-type": "application/json", **reply.headers}
