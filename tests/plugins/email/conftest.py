"""Real mail servers for the email plugin's tests: Dovecot (IMAP) and aiosmtpd (SMTP), on loopback.

Dovecot runs as a subprocess (`dovecot -F -c <conf>`) with a throwaway config, a passwd-file and
maildirs in a temp dir, once per session; every test gets its own mail user, so mailboxes never
mix. A missing dovecot binary fails the tests loudly (Debian: apt-get install dovecot-imapd).
"""

from __future__ import annotations

import datetime as dt
import imaplib
import ipaddress
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from plugins.email.ratelimit import LIMITER

MAIL_PASSWORD = "mail-secret-pw"
USER_POOL = 300


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Cert:
    cert: str
    key: str

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context


@pytest.fixture(scope="session")
def tls_cert() -> Iterator[Cert]:
    """A self-signed certificate for 127.0.0.1, made with the cryptography package."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    folder = Path(tempfile.mkdtemp(prefix="rd-tls-"))
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                        serialization.NoEncryption()))
    folder.chmod(0o755)
    for name in ("cert.pem", "key.pem"):
        (folder / name).chmod(0o644)
    yield Cert(str(folder / "cert.pem"), str(folder / "key.pem"))
    shutil.rmtree(folder, ignore_errors=True)


DOVECOT_CONF = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%u
first_valid_uid = 1
mail_max_userip_connections = 100
default_internal_user = {internal}
default_login_user = {login}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
"""


@dataclass
class Dovecot:
    root: Path
    imap_port: int
    imaps_port: int
    process: subprocess.Popen[bytes]
    users: list[str] = field(default_factory=list)

    def add_user(self) -> str:
        """A fresh mail user (own mailbox); its password is MAIL_PASSWORD. The users are written
        to the passwd-file before Dovecot starts: it notices a rewritten file only by its mtime,
        which a write within the same second does not change."""
        if not self.users:
            raise RuntimeError(f"all {USER_POOL} test mail users are taken; raise USER_POOL")
        return self.users.pop()

    def connect(self, user: str) -> imaplib.IMAP4:
        client = imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=10)
        client.login(user, MAIL_PASSWORD)
        return client

    def append(self, user: str, raw: bytes, folder: str = "INBOX") -> int:
        """APPEND a mail as a test client (stdlib imaplib, not our code); returns its UID."""
        client = self.connect(user)
        try:
            if folder != "INBOX":
                client.create(f'"{folder}"')
            typ, data = client.append(f'"{folder}"', None, None, raw)
            assert typ == "OK", data
            text = data[0].decode()
            return int(text.split("APPENDUID", 1)[1].split()[1].rstrip("]"))
        finally:
            client.logout()

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _dovecot_binary() -> str:
    found = shutil.which("dovecot") or next((p for p in ("/usr/sbin/dovecot",) if os.path.exists(p)), None)
    if not found:
        raise RuntimeError("dovecot is required for the email tests: apt-get install -y dovecot-imapd")
    return found


@pytest.fixture(scope="session")
def dovecot(tls_cert: Cert) -> Iterator[Dovecot]:
    binary = _dovecot_binary()
    root = Path(tempfile.mkdtemp(prefix="rd-dovecot-"))
    root.chmod(0o755)
    (root / "mail").mkdir()
    users = [f"u{uuid.uuid4().hex[:10]}@example.com" for _ in range(USER_POOL)]
    (root / "passwd").write_text("".join(f"{u}:{{PLAIN}}{MAIL_PASSWORD}::::::\n" for u in users), encoding="utf-8")
    if os.geteuid() == 0:
        # Dovecot will not run mail processes as root: they run as its own "dovecot" user.
        entry = pwd.getpwnam("dovecot")
        uid, gid, internal, login = entry.pw_uid, entry.pw_gid, "dovecot", "dovenull"
        os.chown(root / "mail", uid, gid)
    else:
        entry = pwd.getpwuid(os.getuid())
        uid, gid, internal, login = entry.pw_uid, entry.pw_gid, entry.pw_name, entry.pw_name
    imap_port, imaps_port = free_port(), free_port()
    conf = root / "dovecot.conf"
    conf.write_text(DOVECOT_CONF.format(root=root, cert=tls_cert.cert, key=tls_cert.key, uid=uid, gid=gid,
                                        internal=internal, login=login, imap_port=imap_port,
                                        imaps_port=imaps_port), encoding="utf-8")
    process = subprocess.Popen([binary, "-F", "-c", str(conf)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    server = Dovecot(root, imap_port, imaps_port, process, users)
    deadline = time.monotonic() + 15
    while True:
        try:
            with socket.create_connection(("127.0.0.1", imap_port), timeout=1) as sock:
                if sock.recv(100).startswith(b"* OK"):
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            output = process.stdout.read().decode(errors="replace") if process.stdout else ""
            process.kill()
            raise RuntimeError(f"dovecot did not start: {output}\n{server.log()}")
        time.sleep(0.05)
    yield server
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
    shutil.rmtree(root, ignore_errors=True)


# -- SMTP -----------------------------------------------------------------------------------


@dataclass
class Envelope:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes


@dataclass
class SmtpServer:
    port: int
    received: list[Envelope] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    # Scripted answers for the next RCPT commands ("550 5.1.1 no such user"), consumed in order.
    rcpt_replies: list[str] = field(default_factory=list)
    controller: Any = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ANN001
        if self.server.rcpt_replies:
            return self.server.rcpt_replies.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001
        # original_content: the bytes exactly as the client sent them (after dot-unstuffing).
        self.server.received.append(Envelope(envelope.mail_from, list(envelope.rcpt_tos),
                                             envelope.original_content or envelope.content))
        return "250 Message accepted"


def _start_smtp(tls_cert: Cert | None, *, auth: bool, mode: str) -> SmtpServer:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    server = SmtpServer(port=free_port())

    def authenticator(smtp, session, envelope, mechanism, auth_data):  # noqa: ANN001
        ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"smtp-user" \
            and auth_data.password == MAIL_PASSWORD.encode()
        if ok:
            server.logins.append(auth_data.login.decode())
        return AuthResult(success=ok)

    kwargs: dict[str, Any] = {"hostname": "127.0.0.1", "port": server.port}
    if auth:
        kwargs.update(authenticator=authenticator, auth_require_tls=mode != "plain")
    if mode == "starttls":
        kwargs.update(tls_context=tls_cert.server_context(), require_starttls=True)
    elif mode == "tls":
        kwargs.update(ssl_context=tls_cert.server_context())
    server.controller = Controller(_Handler(server), **kwargs)
    server.controller.start()
    return server


@pytest.fixture
def smtp_factory(tls_cert: Cert) -> Iterator[Callable[..., SmtpServer]]:
    servers: list[SmtpServer] = []

    def make(*, auth: bool = False, mode: str = "plain") -> SmtpServer:
        server = _start_smtp(tls_cert, auth=auth, mode=mode)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.controller.stop()


@pytest.fixture
def smtp_server(smtp_factory: Callable[..., SmtpServer]) -> SmtpServer:
    return smtp_factory()


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Iterator[None]:
    LIMITER.reset()
    yield
    LIMITER.reset()
