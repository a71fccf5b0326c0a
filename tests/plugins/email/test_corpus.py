"""The email parser against real-world mail nobody here wrote (see shared/corpora/README.md).

Every mail must parse without raising. Where the corpus carries expectations (stalwart's JSON
decodes, talon's reply texts) the parse must match them: sender, subject, body text and
attachment names. bench/email_parse.py imports this module to report the pass rate.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from plugins.email.attachments import sanitize_filename
from plugins.email.html_text import html_to_text
from plugins.email.parse import ParsedEmail, parse_email
from plugins.email.quotes import split_reply


def _find_corpus() -> Path:
    # ../shared/corpora/email beside the checkout; a git worktree sits a level deeper, so the
    # nearest parent that holds it counts. RELAYDESK_EMAIL_CORPUS names it outright.
    named = os.environ.get("RELAYDESK_EMAIL_CORPUS")
    if named:
        return Path(named)
    repo = Path(__file__).resolve().parents[3]
    for parent in repo.parents:
        candidate = parent / "shared" / "corpora" / "email"
        if candidate.is_dir():
            return candidate
    return repo.parent / "shared" / "corpora" / "email"


CORPUS = _find_corpus()
FORWARD_SPLIT = re.compile(r"(?:^|\n\n)---------- Forwarded message ---------\n")
TALON_HTML_REPLY = "Hi. I am fine. Thanks, Alex"


def corpus_root() -> Path:
    # Fail loudly: a missing corpus must never look like a green run.
    if not CORPUS.is_dir():
        raise FileNotFoundError(f"email corpus not found at {CORPUS}")
    return CORPUS


def mail_files() -> list[Path]:
    """Every mail of the corpus (not the expectation files beside them)."""
    root = corpus_root()
    files = [p for p in root.glob("*/*.eml")]
    files += [p for p in (root / "spamscope").iterdir() if p.is_file()]
    return sorted(files)


def read_mail(path: Path) -> bytes:
    return path.read_bytes()


def norm(text: str | None) -> str:
    return " ".join((text or "").split())


# -- expectations --------------------------------------------------------------------------

@dataclass
class Expectation:
    name: str  # test id
    mail: Path
    crlf: bool = False
    from_email: str | None = None
    from_name: str | None = None
    subject: str = ""
    text: str = ""
    forwards: list[str] = field(default_factory=list)  # expected text of each attached message
    attachment_names: list[str | None] = field(default_factory=list)
    reply: str | None = None  # talon: the new text without quoted history
    visible: str | None = None  # talon html: the visible text


def _header(part: dict[str, Any], name: str) -> Any:
    for h in part["headers"]:
        if h["name"] == name:
            return h["value"]
    return None


def _attr(value: Any, attr: str) -> str | None:
    if not isinstance(value, dict) or "ContentType" not in value:
        return None
    for a in value["ContentType"].get("attributes") or []:
        if a["name"].lower() == attr:
            return a["value"]
    return None


def _part_name(part: dict[str, Any]) -> str | None:
    return _attr(_header(part, "content_disposition"), "filename") or _attr(_header(part, "content_type"), "name")


def _body_text(message: dict[str, Any]) -> tuple[str, list[str], list[str | None]]:
    """(text, forwarded texts, attachment names) that stalwart's decode implies."""
    parts = message["parts"]
    chunks = []
    for i in message["text_body"]:
        body = parts[i]["body"]
        if isinstance(body, dict) and "Text" in body:
            chunks.append(body["Text"])
        elif isinstance(body, dict) and "Html" in body:
            chunks.append(html_to_text(body["Html"]))
    media = [i for i in message["text_body"] + message["html_body"]
             if isinstance(parts[i]["body"], dict) and ("Binary" in parts[i]["body"] or "InlineBinary" in parts[i]["body"])]
    names: list[str | None] = []
    forwards: list[str] = []
    for i in sorted(set(message["attachments"]) | set(media)):
        names.append(_part_name(parts[i]))
        body = parts[i]["body"]
        if isinstance(body, dict) and "Message" in body:
            forwards.append(_body_text(body["Message"])[0])
    return "\n".join(chunks), forwards, names


def stalwart_expectations() -> list[Expectation]:
    out = []
    for folder in ("stalwart-rfc", "stalwart-malformed", "stalwart-thirdparty"):
        for mail in sorted((corpus_root() / folder).glob("*.eml")):
            for crlf, suffix in ((False, ".json"), (True, ".crlf.json")):
                path = mail.with_suffix(suffix)
                if not path.exists():
                    continue
                data = json.loads(path.read_text())
                root = data["parts"][0]
                exp = Expectation(name=f"{folder}/{path.name}", mail=mail, crlf=crlf)
                sender = _header(root, "from")
                if isinstance(sender, dict) and sender.get("Address", {}).get("List"):
                    first = sender["Address"]["List"][0]
                    exp.from_email = (first.get("address") or "").lower()
                    exp.from_name = first.get("name")
                subject = _header(root, "subject")
                exp.subject = subject.get("Text", "") if isinstance(subject, dict) else ""
                exp.text, exp.forwards, exp.attachment_names = _body_text(data)
                out.append(exp)
    return out


def talon_expectations() -> list[Expectation]:
    root = corpus_root()
    out = []
    for reply in sorted((root / "talon-replies").glob("*_reply_text")):
        mail = reply.with_name(reply.name.removesuffix("_reply_text") + ".eml")
        out.append(Expectation(name=f"talon-replies/{mail.name}", mail=mail, reply=reply.read_text()))
    for page in sorted((root / "talon-html-replies").glob("*.html")):
        out.append(Expectation(name=f"talon-html-replies/{page.name}", mail=page, visible=TALON_HTML_REPLY))
    return out


def all_expectations() -> list[Expectation]:
    return stalwart_expectations() + talon_expectations()


def raw_for(exp: Expectation) -> bytes:
    data = exp.mail.read_bytes()
    if exp.visible is not None:
        # talon's HTML fixtures are bodies only: wrap each as the HTML-only mail it came in.
        head = (b"From: Alex <alex@example.com>\nSubject: Re: Test\nMIME-Version: 1.0\n"
                b"Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n")
        return head + data
    if exp.crlf:
        return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    return data


def mismatches(exp: Expectation, parsed: ParsedEmail) -> list[str]:
    """What differs between the parse and the expectation; empty when it matches."""
    bad: list[str] = []
    if exp.reply is not None:
        got = split_reply(parsed.text).body
        if norm(got) != norm(exp.reply):
            bad.append(f"reply {got!r} != {exp.reply!r}")
        return bad
    if exp.visible is not None:
        if norm(parsed.visible_text) != norm(exp.visible):
            bad.append(f"visible_text {parsed.visible_text!r} != {exp.visible!r}")
        return bad
    if exp.from_email is not None and parsed.from_email != exp.from_email:
        bad.append(f"from_email {parsed.from_email!r} != {exp.from_email!r}")
    if exp.from_name and norm(parsed.from_name) != norm(exp.from_name):
        bad.append(f"from_name {parsed.from_name!r} != {exp.from_name!r}")
    if norm(parsed.subject) != norm(exp.subject):
        bad.append(f"subject {parsed.subject!r} != {exp.subject!r}")
    segments = FORWARD_SPLIT.split(parsed.text)
    if norm(segments[0]) != norm(exp.text):
        bad.append(f"text {segments[0][:300]!r} != {exp.text[:300]!r}")
    if len(segments) - 1 != len(exp.forwards):
        bad.append(f"{len(segments) - 1} forwarded blocks, expected {len(exp.forwards)}")
    else:
        for got, want in zip(segments[1:], exp.forwards):
            if not norm(got).endswith(norm(want)):
                bad.append(f"forwarded text {got[-200:]!r} does not end with {want[-200:]!r}")
    names = [a.filename for a in parsed.attachments]
    if len(names) != len(exp.attachment_names):
        bad.append(f"attachments {names} != {exp.attachment_names}")
    else:
        remaining = list(names)
        for want in exp.attachment_names:
            if want is None:
                continue
            safe = sanitize_filename(want)
            if safe in remaining:
                remaining.remove(safe)
            else:
                bad.append(f"attachment {safe!r} missing from {names}")
    return bad


# -- tests -----------------------------------------------------------------------------------

def test_corpus_is_present() -> None:
    assert len(mail_files()) >= 90, "the email corpus looks incomplete"


@pytest.mark.parametrize("path", mail_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_mail_parses(path: Path) -> None:
    raw = read_mail(path)
    parsed = parse_email(raw)
    assert parsed.message_id.startswith("<") and parsed.message_id.endswith(">")
    assert isinstance(parsed.text, str) and isinstance(parsed.defects, list)
    assert parsed.date is None or parsed.date.tzinfo is not None
    for att in parsed.attachments:
        assert att.filename and "/" not in att.filename and "\\" not in att.filename
    # The same bytes always give the same identity (threading depends on it).
    assert parse_email(raw).message_id == parsed.message_id


@pytest.mark.parametrize("exp", all_expectations(), ids=lambda e: e.name)
def test_expectation(exp: Expectation) -> None:
    parsed = parse_email(raw_for(exp))
    assert mismatches(exp, parsed) == []


def test_pass_rate() -> None:
    expectations = all_expectations()
    failed = [e.name for e in expectations if mismatches(e, parse_email(raw_for(e)))]
    rate = 1 - len(failed) / len(expectations)
    print(f"email corpus expectations: {len(expectations) - len(failed)}/{len(expectations)} ({rate:.1%})")
    assert failed == []
