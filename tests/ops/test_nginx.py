"""The desk behind Debian's nginx, with the site from deploy/nginx/relaydesk.conf (docs/deploying.md):
TLS ends at nginx, a signed webhook and a sign-in go through, live updates (SSE) arrive at once, the
body limit matches the desk's, the request id links nginx and the desk's JSON log, and the sign-in
throttle counts the address nginx saw, never one a client wrote into a header.

nginx runs as a plain process with its own configuration on free loopback ports; nothing of the
machine's nginx is touched."""

from __future__ import annotations

import base64
import json
import os
import re
import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from plugins.api_channel import signing
from tests.ops.test_startup_errors import ROOT

SITE = ROOT / "deploy" / "nginx" / "relaydesk.conf"
SECRET = "nginx-test-secret"
ADMIN, PASSWORD = "admin@example.com", "correct horse battery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise AssertionError(f"{proc.args[0]} exited: {log.read_text()[-3000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listens on {port}: {log.read_text()[-3000:]}")


def render_site(app_port: int, http_port: int, tls_port: int, cert: Path, key: Path) -> str:
    """The documented site with this test's ports and certificate; every substitution must apply, so
    a change to the site that this test no longer covers fails here."""
    site = SITE.read_text()
    for old, new in [
        ("    server 127.0.0.1:8001;\n    server 127.0.0.1:8002;\n", f"    server 127.0.0.1:{app_port};\n"),
        ("    listen [::]:80;\n", ""), ("    listen [::]:443 ssl http2;\n", ""),
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{tls_port} ssl http2;"),
        ("/etc/letsencrypt/live/desk.example.com/fullchain.pem", str(cert)),
        ("/etc/letsencrypt/live/desk.example.com/privkey.pem", str(key)),
    ]:
        assert old in site, f"deploy/nginx/relaydesk.conf no longer has {old!r}"
        site = site.replace(old, new)
    return site


def signed(body: dict) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body).encode()
    return raw, {"content-type": "application/json", signing.HEADER: signing.sign(SECRET, raw)}


def message(i: str, text: str = "Where is my order?", **extra) -> dict:
    return {"messages": [{"id": i, "sender": {"id": f"buyer-{i}"}, "text": text, **extra}]}


@pytest.fixture(scope="module")
def desk_behind_nginx(tmp_path_factory):
    root = tmp_path_factory.mktemp("nginx")
    app_port, http_port, tls_port = free_port(), free_port(), free_port()
    (root / "data").mkdir()
    config = root / "plugins.toml"
    config.write_text(f"""[relaydesk]
database = "sqlite:///{root}/desk.db"
data_dir = "{root}/data"
public_url = "https://127.0.0.1:{tls_port}"
trusted_proxies = ["127.0.0.1"]   # nginx: its X-Forwarded-For names the client
secret = {{ env = "NGINX_TEST_SESSION_SECRET" }}
[plugins]
enabled = ["api_channel"]
[plugins.api_channel.accounts.main]
secret = {{ env = "NGINX_TEST_SECRET" }}
""")
    env = {**os.environ, "NGINX_TEST_SECRET": SECRET, "NGINX_TEST_SESSION_SECRET": "x" * 32}
    init = subprocess.run([sys.executable, "-m", "core.cli", "init", "-c", str(config), "--admin-email", ADMIN,
                           "--admin-password", PASSWORD], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert init.returncode == 0, init.stderr
    app_log = root / "app.log"
    app = subprocess.Popen([sys.executable, "-m", "core.cli", "serve", "-c", str(config), "--port", str(app_port),
                            "--log-format", "json"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                           stderr=app_log.open("w"))
    cert, key = root / "cert.pem", root / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "1", "-subj", "/CN=relaydesk-test", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    (root / "site.conf").write_text(render_site(app_port, http_port, tls_port, cert, key))
    for folder in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (root / folder).mkdir()
    (root / "nginx.conf").write_text(f"""
{"user root;" if os.geteuid() == 0 else ""}
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/nginx-error.log;
events {{ worker_connections 128; }}
http {{
    access_log {root}/nginx-access.log;
    client_body_temp_path {root}/body; proxy_temp_path {root}/proxy; fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi; scgi_temp_path {root}/scgi;
    include {root}/site.conf;
}}
""")
    nginx_log = root / "nginx-error.log"
    nginx = subprocess.Popen(["nginx", "-p", str(root), "-c", str(root / "nginx.conf"), "-g", "daemon off;"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        wait_port(tls_port, nginx, nginx_log)
        wait_port(app_port, app, app_log)
        tls = ssl.create_default_context(cafile=str(cert))
        yield {"app_port": app_port, "http_port": http_port, "base": f"https://127.0.0.1:{tls_port}", "tls": tls,
               "app_log": app_log}
    finally:
        for proc in (nginx, app):
            proc.terminate()
        for proc in (nginx, app):
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


def client(desk, source: str = "127.0.0.1", base: str | None = None) -> httpx.Client:
    transport = httpx.HTTPTransport(local_address=source, verify=desk["tls"])
    return httpx.Client(base_url=base or desk["base"], transport=transport, timeout=20)


def sign_in(http: httpx.Client, password: str, headers: dict | None = None, email: str = ADMIN) -> httpx.Response:
    page = http.get("/login")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)  # bound to the session
    form = {"_csrf_token": token, "email": email, "password": password, "next": "/inbox"}
    # the session cookie is Secure (public_url is https): sent by hand on the plain-HTTP direct path
    session = page.cookies.get("relaydesk_session") or http.cookies.get("relaydesk_session")
    cookie = {} if http.base_url.scheme == "https" else {"cookie": f"relaydesk_session={session}"}
    return http.post("/login", data=form, headers={**cookie, **(headers or {})})


def test_webhook_sign_in_and_live_updates_through_nginx(desk_behind_nginx):
    desk = desk_behind_nginx
    with httpx.Client(timeout=10) as plain:
        redirect = plain.get(f"http://127.0.0.1:{desk['http_port']}/inbox")
    assert redirect.status_code == 301 and redirect.headers["location"].startswith("https://")

    with client(desk) as http:
        body, headers = signed(message("nginx-1"))
        answer = http.post("/hooks/api_channel/main", content=body, headers=headers)
        assert answer.status_code == 200 and answer.json()["stored"] == 1
        request_id = answer.headers["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{32}", request_id)  # nginx's $request_id, passed through and returned
        body, headers = signed(message("nginx-1"))
        assert http.post("/hooks/api_channel/main", content=body, headers=headers).json()["duplicates"] == 1

        # Bodies up to the desk's limit pass nginx; larger ones are refused with 413.
        attachment = {"filename": "scan.png", "content_type": "image/png",
                      "data": base64.b64encode(os.urandom(700_000)).decode()}
        body, headers = signed(message("nginx-big", attachments=[attachment]))
        assert 900_000 < len(body) < 1_048_576
        assert http.post("/hooks/api_channel/main", content=body, headers=headers).status_code == 200
        body, headers = signed(message("nginx-huge", text="x" * 1_100_000))
        assert http.post("/hooks/api_channel/main", content=body, headers=headers).status_code == 413
        # A reply carries files: its location lets a few megabytes through to the desk, which answers
        # for itself (here: no API token, the desk's JSON 401, not nginx's 413 page).
        reply = http.post("/api/v1/tickets/1/reply", json={"text": "hi", "attachments": [
            {"filename": "scan.png", "content_type": "image/png", "data": base64.b64encode(os.urandom(3_000_000)).decode()}]})
        assert reply.status_code == 401 and reply.json()["error"]["code"] == "token_missing"

        signed_in = sign_in(http, PASSWORD)
        assert signed_in.status_code in (302, 303) and signed_in.headers["location"] == "/inbox"
        assert "secure" in signed_in.headers["set-cookie"].lower()  # https seen through X-Forwarded-Proto
        inbox = http.get("/inbox", follow_redirects=True)
        assert inbox.status_code == 200 and inbox.url.path.startswith("/inbox")  # signed in, not sent to /login

        events: list[str] = []
        connected = threading.Event()

        def listen() -> None:
            with http.stream("GET", "/inbox/live", timeout=httpx.Timeout(20, read=20)) as stream:
                for line in stream.iter_lines():
                    if line.startswith(":"):
                        connected.set()
                    events.append(line)
                    if line == "data: queue":  # the inbox's live events are plain SSE messages naming what changed
                        return

        listener = threading.Thread(target=listen, daemon=True)
        listener.start()
        assert connected.wait(15), "the live stream never opened through nginx"
        body, headers = signed(message("nginx-live", text="Is anyone there?"))
        with client(desk) as other:
            assert other.post("/hooks/api_channel/main", content=body, headers=headers).status_code == 200
        listener.join(15)
        assert "data: queue" in events, f"no live update came through nginx: {events}"

    log = [json.loads(line) for line in desk["app_log"].read_text().splitlines() if line.startswith("{")]
    access = [line for line in log if line.get("request_id") == request_id]
    assert access and access[0]["path"] == "/hooks/api_channel/main" and access[0]["status"] == 200


def test_the_throttle_counts_the_address_nginx_saw(desk_behind_nginx):
    desk = desk_behind_nginx
    # Guesses at many accounts from one address: the per-address limit (20) locks that address, as
    # nginx saw it; every account stays under its own limit (5).
    with client(desk, source="127.0.0.5") as attacker:
        codes = [sign_in(attacker, "wrong", email=f"guess{i}@example.com").status_code for i in range(20)]
        assert codes == [401] * 20
        assert sign_in(attacker, "wrong", email="guess20@example.com").status_code == 429
        # A header of the client's choosing changes nothing: nginx writes the address it saw.
        assert sign_in(attacker, "wrong", {"X-Forwarded-For": "10.9.8.7"}, email="guess21@example.com").status_code == 429
    with client(desk, source="127.0.0.6") as neighbour:  # another client behind the same proxy
        assert sign_in(neighbour, "wrong", email="neighbour@example.com").status_code == 401
    # Straight to the desk, not through the proxy: a forwarded address is not believed.
    with client(desk, source="127.0.0.7", base=f"http://127.0.0.1:{desk['app_port']}") as direct:
        assert sign_in(direct, "wrong", {"X-Forwarded-For": "127.0.0.5"}, email="direct@example.com").status_code == 401


def test_docs_show_the_files_that_are_tested():
    """docs/deploying.md shows the nginx site and the units verbatim: what is documented is what runs here."""
    doc = (ROOT / "docs" / "deploying.md").read_text()
    for path in ("deploy/nginx/relaydesk.conf", "deploy/systemd/relaydesk-web@.service",
                 "deploy/systemd/relaydesk-worker@.service"):
        assert (ROOT / path).read_text() in doc, f"docs/deploying.md shows an outdated {path}"
