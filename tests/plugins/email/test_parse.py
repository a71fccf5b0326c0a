"""The email parser on small hand-written mails, one feature at a time."""

from __future__ import annotations

import base64
import random
import struct
from datetime import timezone

import pytest

from core.sanitize import sanitize_html as core_sanitize_html
from plugins.email.attachments import MAX_FILENAME_CHARS, sanitize_filename
from plugins.email.charsets import decode_bytes
from plugins.email.headers import decode_header
from plugins.email.html_text import html_to_text
from plugins.email.parse import parse_email, synthetic_message_id, to_inbound
from plugins.email.quotes import split_reply, visible_text


def mail(body: bytes | str = "Hello", *, headers: str = "", ctype: str = "text/plain; charset=utf-8",
         cte: str | None = None, msgid: str | None = "<m1@example.com>", subject: str = "Order") -> bytes:
    head = f"From: Ann Buyer <Ann@Example.COM>\nTo: Shop <shop@example.com>\nSubject: {subject}\n"
    head += "Date: Tue, 03 Apr 2012 16:23:59 +0400\n"
    if msgid:
        head += f"Message-ID: {msgid}\n"
    head += headers
    head += f"MIME-Version: 1.0\nContent-Type: {ctype}\n"
    if cte:
        head += f"Content-Transfer-Encoding: {cte}\n"
    data = body.encode("utf-8") if isinstance(body, str) else body
    return head.encode("utf-8") + b"\n" + data


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def word(text: str, charset: str) -> str:
    return f"=?{charset}?B?{b64(text.encode(charset))}?="


# -- basics ----------------------------------------------------------------------------------

def test_basic_fields() -> None:
    p = parse_email(mail(headers="Cc: Bob <BOB@example.org>, carol@example.net\n"
                         "In-Reply-To: <a@x>\nReferences: <r1@x> <a@x>\n"))
    assert p.message_id == "<m1@example.com>"
    assert (p.from_name, p.from_email) == ("Ann Buyer", "ann@example.com")
    assert p.to == ["shop@example.com"] and p.cc == ["bob@example.org", "carol@example.net"]
    assert p.subject == "Order" and p.text == "Hello" and p.visible_text == "Hello"
    assert p.in_reply_to == "<a@x>" and p.references == ["<r1@x>", "<a@x>"]
    assert p.date is not None and p.date.utcoffset().total_seconds() == 4 * 3600
    assert p.headers["message-id"] == "<m1@example.com>"
    assert p.html is None and p.attachments == [] and not p.is_auto_reply and not p.is_bounce


def test_missing_message_id_gets_stable_synthetic_id() -> None:
    raw = mail(msgid=None)
    first, second = parse_email(raw), parse_email(raw)
    assert first.message_id == second.message_id == synthetic_message_id(raw)
    assert first.message_id.startswith("<") and first.message_id.endswith("@relaydesk.invalid>")
    assert len(first.message_id) == len("<@relaydesk.invalid>") + 64
    assert parse_email(mail("Other", msgid=None)).message_id != first.message_id
    assert any("Message-ID" in d for d in first.defects)


def test_date_without_zone_is_utc_and_missing_date_uses_received() -> None:
    p = parse_email(b"From: a@b.c\nDate: Tue, 03 Apr 2012 16:23:59 -0000\n\nx")
    assert p.date is not None and p.date.tzinfo is not None and p.date.utcoffset().total_seconds() == 0
    p = parse_email(b"From: a@b.c\nReceived: from x by y; Wed, 04 Apr 2012 10:00:00 +0200\n\nx")
    assert p.date is not None and p.date.day == 4 and p.date.utcoffset().total_seconds() == 7200
    p = parse_email(b"From: a@b.c\nDate: someday\n\nx")
    assert p.date is None and any("date" in d.lower() for d in p.defects)


@pytest.mark.parametrize("raw", [
    b"", b"\x00\xff\xfe", b"From:\n\n", b"Content-Type: multipart/mixed; boundary=x\n\n--x\n",
    b"Subject: =?utf-8?B?###?=\nFrom: <<<@>>>\nDate: 99 Foo 99999\n\n\xff\xfe\xfd",
    b"Content-Type: text/plain; charset=base64\nContent-Transfer-Encoding: base64\n\n!!!",
    b"Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\nnot base64 at all",
    b"Content-Type: " + b"multipart/mixed; boundary=a\n\n--a\nContent-Type: " * 200 + b"text/plain\n\nx",
])
def test_never_raises_on_garbage(raw: bytes) -> None:
    p = parse_email(raw)
    assert p.message_id == synthetic_message_id(raw)
    assert isinstance(p.text, str) and isinstance(p.defects, list)


def test_never_raises_on_random_bytes() -> None:
    rng = random.Random(7)
    base = mail("Hello", ctype='multipart/mixed; boundary="b"')
    for _ in range(200):
        raw = bytearray(base + b"--b\nContent-Type: text/plain\n\nhi\n--b--\n")
        for _ in range(rng.randint(1, 20)):
            raw[rng.randrange(len(raw))] = rng.randrange(256)
        assert isinstance(parse_email(bytes(raw)).text, str)


# -- charsets --------------------------------------------------------------------------------

def test_gb2312_body_with_gbk_characters_and_encoded_subject() -> None:
    # 镕 is GBK, not GB2312: senders label GBK mail "gb2312" all the time.
    body = "朱镕基说你好".encode("gbk")
    raw = mail(body, ctype="text/plain; charset=gb2312", cte="8bit").replace(
        b"Subject: Order", f"Subject: {word('订单问题', 'gb2312')}".encode(), 1)
    p = parse_email(raw)
    assert p.text == "朱镕基说你好"
    assert p.subject == "订单问题"


def test_big5_body_and_subject() -> None:
    raw = mail(b64("繁體中文訂單".encode("big5")), ctype="text/plain; charset=big5", cte="base64").replace(
        b"Subject: Order", f"Subject: {word('退貨申請', 'big5')}".encode(), 1)
    p = parse_email(raw)
    assert p.text == "繁體中文訂單" and p.subject == "退貨申請"


def test_iso_2022_jp_body_and_subject() -> None:
    raw = mail("日本語のメールです".encode("iso2022_jp"), ctype="text/plain; charset=ISO-2022-JP",
               cte="7bit").replace(b"Subject: Order", f"Subject: {word('注文について', 'iso2022_jp')}".encode(), 1)
    p = parse_email(raw)
    assert p.text == "日本語のメールです" and p.subject == "注文について"


def test_shift_jis_label_with_cp932_characters() -> None:
    # ① and ～ exist only in Microsoft's cp932, which senders still label Shift_JIS.
    raw = mail("①商品～届きました".encode("cp932"), ctype="text/plain; charset=Shift_JIS", cte="8bit")
    raw = raw.replace(b"Subject: Order", f"Subject: {word('返品', 'shift_jis')}".encode(), 1)
    p = parse_email(raw)
    assert p.text == "①商品～届きました" and p.subject == "返品"


def test_mislabelled_charsets() -> None:
    # UTF-8 labelled Latin-1 (webmail forms).
    p = parse_email(mail("Café – naïve", ctype="text/plain; charset=iso-8859-1", cte="8bit"))
    assert p.text == "Café – naïve"
    assert any("mislabelled" in d for d in p.defects)
    # Windows-1252 curly quotes labelled us-ascii.
    p = parse_email(mail(b"\x93quoted\x94 \x80 5", ctype="text/plain; charset=us-ascii", cte="8bit"))
    assert p.text == "\u201cquoted\u201d \u20ac 5"
    # Unknown label, UTF-8 bytes.
    p = parse_email(mail("Grüße", ctype="text/plain; charset=x-unheard-of", cte="8bit"))
    assert p.text == "Grüße"
    # No label at all, GB18030 bytes: detection rather than mojibake.
    text, problem = decode_bytes("这是一封关于退款的邮件，请尽快处理我的订单，谢谢。".encode("gb18030"))
    assert text == "这是一封关于退款的邮件，请尽快处理我的订单，谢谢。" and problem


def test_binary_labelled_as_text_and_bom_less_utf16() -> None:
    # Mostly control bytes: only UTF-16/32 are asked about, and UTF-16 text is still recognized.
    text = "Bitte senden Sie mir die Rechnung für Bestellung 1001 noch einmal zu.\n" * 3
    assert decode_bytes(text.encode("utf-16-le")) == (text, "charset None undecodable, detected utf_16_le")
    blob = bytes([0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) + bytes(range(32)) * 200
    decoded, problem = decode_bytes(blob)
    assert len(decoded) == len(blob) and "windows-1252" in (problem or "")


def test_undecodable_bytes_never_raise() -> None:
    text, problem = decode_bytes(bytes(range(256)) * 3, "utf-8")
    assert isinstance(text, str) and len(text) > 0 and problem


def test_encoded_words_broken_and_split() -> None:
    # A multibyte character split across two words must be rejoined before decoding.
    data = "größe".encode("utf-8")
    split = f"=?utf-8?B?{b64(data[:3])}?= =?utf-8?B?{b64(data[3:])}?="
    assert decode_header(split) == "größe"
    assert decode_header("=?utf-8?Q?caf=C3=A9_au_lait?= ok") == "café au lait ok"
    assert decode_header("=?utf-8?B?w6k?=") == "é"  # missing padding
    assert decode_header("=?x-unknown?Q?plain?=") == "plain"
    assert decode_header("Re: =?gb2312?B?xOO6ww==?=!") == "Re: 你好!"
    assert decode_header("raw caf\udcc3\udca9") == "raw café"  # 8-bit bytes as the parser hands them


def test_rfc2231_and_encoded_word_filenames() -> None:
    raw = mail(ctype='multipart/mixed; boundary="b"', body=(
        "--b\nContent-Type: text/plain\n\nsee files\n"
        "--b\nContent-Type: application/pdf\nContent-Disposition: attachment; "
        "filename*=utf-8''%E5%8F%91%E7%A5%A8.pdf\nContent-Transfer-Encoding: base64\n\n"
        f"{b64(b'%PDF-1')}\n"
        "--b\nContent-Type: application/pdf; name=\"=?utf-8?B?" + b64("Rechnung Nr.1.pdf".encode()) + "?=\"\n"
        "Content-Disposition: attachment\n\nxx\n--b--\n"))
    p = parse_email(raw)
    assert [a.filename for a in p.attachments] == ["发票.pdf", "Rechnung Nr.1.pdf"]
    assert p.attachments[0].data == b"%PDF-1"


# -- html ------------------------------------------------------------------------------------

XSS = (
    '<html><head><style>p{color:red}</style><script>alert("head")</script></head><body>'
    '<p onclick="steal()">Hello <b>there</b></p><script>alert(1)</script>'
    '<a href="javascript:alert(2)">click</a> <a href="https://shop.example/track?id=1">Track order</a>'
    '<img src="x" onerror="alert(3)"><img src="cid:logo@shop"><iframe src="https://evil"></iframe>'
    "<ul><li>one</li><li>two</li></ul><div>Line A</div><div>Line B<br>Line C</div></body></html>"
)


def test_html_only_mail_gets_readable_text() -> None:
    p = parse_email(mail(XSS, ctype="text/html; charset=utf-8"))
    assert "Hello there" in p.text
    assert "Track order (https://shop.example/track?id=1)" in p.text
    assert "- one\n- two" in p.text
    assert "Line A\nLine B\nLine C" in p.text
    assert "alert" not in p.text and "color:red" not in p.text


def test_html_is_sanitized_but_keeps_cid_images() -> None:
    p = parse_email(mail(XSS, ctype="text/html; charset=utf-8"))
    assert p.html is not None
    lowered = p.html.lower()
    for bad in ("<script", "onclick", "onerror", "javascript:", "<iframe", "alert("):
        assert bad not in lowered, bad
    assert 'src="cid:logo@shop"' in p.html
    assert 'href="https://shop.example/track?id=1"' in p.html


def test_core_gets_the_html_unsanitized_and_sanitizes_it_the_same_way() -> None:
    # The core sanitizes all inbound HTML before storing it; the parser hands the mail's HTML over
    # as received (nh3 runs once per mail, not twice) and sanitizes only when `html` is read.
    p = parse_email(mail(XSS, ctype="text/html; charset=utf-8"))
    handed = to_inbound(p).html
    assert handed == p.unsafe_html and handed is not None and "<script" in handed
    assert core_sanitize_html(handed) == p.html


def test_html_with_lone_surrogates_can_still_be_sanitized_by_the_core() -> None:
    # UTF-7 decodes "+2AA-" to a lone surrogate, which nh3 refuses: the store must not fail on it.
    p = parse_email(mail(b"<p>Hi +2AA- there</p><script>alert(1)</script>", ctype="text/html; charset=utf-7"))
    stored = core_sanitize_html(to_inbound(p).html)
    assert stored is not None and "Hi \ufffd" in stored and "there" in stored and "<script" not in stored


def test_html_to_text_blockquote_becomes_quote() -> None:
    text = html_to_text("<p>Reply</p><blockquote>old<br>older</blockquote>")
    assert text.splitlines() == ["Reply", "", "> old", "> older"]


def test_alternative_prefers_plain_text_and_keeps_html() -> None:
    raw = mail(ctype='multipart/alternative; boundary="a"', body=(
        "--a\nContent-Type: text/plain; charset=utf-8\n\nPlain version\n"
        "--a\nContent-Type: text/html; charset=utf-8\n\n<p>HTML <i>version</i></p>\n--a--\n"))
    p = parse_email(raw)
    assert p.text == "Plain version"
    assert p.html is not None and "<i>version</i>" in p.html


# -- attachments -----------------------------------------------------------------------------

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==")


def test_cid_inline_image() -> None:
    raw = mail(ctype='multipart/related; boundary="r"', body=(
        '--r\nContent-Type: text/html; charset=utf-8\n\n<p>Logo:</p><img src="cid:logo123@shop">\n'
        "--r\nContent-Type: image/png\nContent-ID: <logo123@shop>\nContent-Transfer-Encoding: base64\n\n"
        f"{b64(PNG)}\n--r--\n"))
    p = parse_email(raw)
    assert len(p.attachments) == 1
    att = p.attachments[0]
    assert att.content_id == "logo123@shop" and att.inline is True
    assert att.data == PNG and att.content_type == "image/png" and att.filename.endswith(".png")
    assert p.html is not None and 'src="cid:logo123@shop"' in p.html


def test_regular_attachment_is_not_inline() -> None:
    raw = mail(ctype='multipart/mixed; boundary="m"', body=(
        "--m\nContent-Type: text/plain\n\nInvoice attached\n"
        '--m\nContent-Type: application/pdf\nContent-Disposition: attachment; filename="invoice.pdf"\n'
        f"Content-Transfer-Encoding: base64\n\n{b64(b'%PDF-1.4 data')}\n--m--\n"))
    p = parse_email(raw)
    assert p.text == "Invoice attached"
    [att] = p.attachments
    assert (att.filename, att.inline, att.content_id, att.data) == ("invoice.pdf", False, None, b"%PDF-1.4 data")


@pytest.mark.parametrize(("body", "data", "defect"), [
    (b64(b"%PDF-1.4 " * 40), b"%PDF-1.4 " * 40, None),  # one long line
    (base64.encodebytes(b"%PDF-1.4 " * 40).decode().replace("\n", "\r\n"), b"%PDF-1.4 " * 40, None),
    # Padding ends a group, not the data: runs encoded one after the other are all read.
    (b64(b"ab") + "\n" + b64(b"cd"), b"abcd", None),
    (b64(b"abcd").rstrip("="), b"abcd", None),  # padding left out
    (b64(b"abcd") + "\n==\n" + b64(b"ef"), b"abcdef", None),
    (b64(b"abcde").rstrip("="), b"abcde", None),
])
def test_base64_attachment_bodies(body: str, data: bytes, defect: str | None) -> None:
    raw = mail(ctype='multipart/mixed; boundary="m"', body=(
        "--m\nContent-Type: text/plain\n\nSee attached.\n"
        '--m\nContent-Type: application/pdf; name="a.pdf"\nContent-Disposition: attachment\n'
        f"Content-Transfer-Encoding: base64\n\n{body}\n--m--\n"))
    p = parse_email(raw)
    assert [a.data for a in p.attachments] == [data]
    assert defect is None or defect in p.defects


def test_base64_with_foreign_characters_is_kept_as_text() -> None:
    # Not base64 at all: decoding would invent bytes, so the body is kept as it came.
    raw = mail(ctype='multipart/mixed; boundary="m"', body=(
        "--m\nContent-Type: text/plain\n\nSee attached.\n"
        '--m\nContent-Type: application/pdf; name="a.pdf"\nContent-Transfer-Encoding: base64\n\n'
        "?this is no base64!\n--m--\n"))
    p = parse_email(raw)
    assert p.text == "See attached."
    assert [(a.filename, a.content_type, a.data) for a in p.attachments] == [
        ("a.pdf", "text/plain", b"?this is no base64!")]
    assert "base64 body with characters outside the alphabet" in p.defects


def test_oversize_attachment_is_dropped_with_defect() -> None:
    raw = mail(ctype='multipart/mixed; boundary="m"', body=(
        "--m\nContent-Type: text/plain\n\nTwo files\n"
        '--m\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename="big.bin"\n'
        f"Content-Transfer-Encoding: base64\n\n{b64(b'x' * 5000)}\n"
        '--m\nContent-Type: text/csv\nContent-Disposition: attachment; filename="small.csv"\n\na,b\n--m--\n'))
    p = parse_email(raw, max_attachment_bytes=1000)
    assert [a.filename for a in p.attachments] == ["small.csv"]
    assert any("big.bin" in d and "dropped" in d for d in p.defects)
    assert [a.filename for a in parse_email(raw).attachments] == ["big.bin", "small.csv"]


@pytest.mark.parametrize(("name", "expected"), [
    ("../../etc/passwd", "passwd"),
    ("..\\..\\windows\\system32\\cmd.exe", "cmd.exe"),
    ("in\x07voice\x1b[31m.pdf", "in_voice_[31m.pdf"),
    ("report\r\nX-Injected: 1.txt", "report_X-Injected_ 1.txt"),
    ("  .hidden  ", "hidden"),
    ("CON.txt", "_CON.txt"),
    ("", "attachment-1.pdf"),
    (None, "attachment-1.pdf"),
    ("\u202egnp.exe", "gnp.exe"),  # right-to-left override: disguises extensions
])
def test_filename_sanitizing(name: str | None, expected: str) -> None:
    assert sanitize_filename(name, "application/pdf") == expected


def test_long_filename_is_cut_keeping_extension() -> None:
    name = sanitize_filename("a" * 500 + ".docx")
    assert len(name) <= MAX_FILENAME_CHARS and name.endswith(".docx")


def test_attachment_names_sanitized_in_parse() -> None:
    raw = mail(ctype='multipart/mixed; boundary="m"', body=(
        "--m\nContent-Type: text/plain\n\nx\n"
        '--m\nContent-Type: text/plain\nContent-Disposition: attachment; filename="../../etc/passwd"\n\nroot\n'
        "--m\nContent-Type: application/zip\nContent-Disposition: attachment\n\nPK\n--m--\n"))
    p = parse_email(raw)
    assert [a.filename for a in p.attachments] == ["passwd", "attachment-2.zip"]


def _tnef(name: bytes, data: bytes) -> bytes:
    def obj(level: int, attr: int, typ: int, payload: bytes) -> bytes:
        return struct.pack("<BHHI", level, attr, typ, len(payload)) + payload + struct.pack("<H", sum(payload) & 0xFFFF)
    return (struct.pack("<IH", 0x223E9F78, 1) + obj(1, 0x9006, 8, struct.pack("<I", 0x10000))
            + obj(2, 0x9002, 6, b"\x01\x00" + b"\xff" * 4 + b"\x00" * 8)
            + obj(2, 0x8010, 1, name + b"\x00") + obj(2, 0x800F, 6, data))


def test_winmail_dat_is_unpacked() -> None:
    raw = mail(ctype='multipart/mixed; boundary="m"', body=(
        "--m\nContent-Type: text/plain\n\nSee attachment\n"
        '--m\nContent-Type: application/ms-tnef; name="winmail.dat"\nContent-Disposition: attachment\n'
        f"Content-Transfer-Encoding: base64\n\n{b64(_tnef(b'quote.txt', b'price list'))}\n--m--\n"))
    p = parse_email(raw)
    assert [(a.filename, a.data, a.content_type) for a in p.attachments] == [("quote.txt", b"price list", "text/plain")]


def test_broken_winmail_dat_is_kept_whole() -> None:
    raw = mail(ctype='multipart/mixed; boundary="m"', body=(
        "--m\nContent-Type: text/plain\n\nx\n"
        '--m\nContent-Type: application/ms-tnef; name="winmail.dat"\n\nnot tnef\n--m--\n'))
    p = parse_email(raw)
    assert [a.filename for a in p.attachments] == ["winmail.dat"]
    assert any("winmail.dat" in d for d in p.defects)


# -- auto-replies and bounces ---------------------------------------------------------------

@pytest.mark.parametrize(("headers", "subject", "expected"), [
    ("Auto-Submitted: auto-replied\n", "Order", True),
    ("Auto-Submitted: auto-generated; owner-email=x@y\n", "Order", True),
    ("Auto-Submitted: no\n", "Order", False),
    ("X-Autoreply: yes\n", "Order", True),
    ("X-Autorespond: Vacation\n", "Order", True),
    ("Precedence: bulk\n", "Order", True),
    ("Precedence: junk\n", "Order", True),
    ("Precedence: list\n", "Order", True),
    ("List-Id: <news.shop.example>\n", "Order", True),
    ("List-Unsubscribe: <mailto:u@x>\n", "Order", True),
    ("", "Automatic reply: Order", True),
    ("", "Out of Office: back Monday", True),
    ("", "Abwesenheitsnotiz: Urlaub", True),
    ("", "自动回复: 您好", True),
    ("", "Re: Order", False),
    ("", "Where is my out of office chair?", False),
])
def test_auto_reply_detection(headers: str, subject: str, expected: bool) -> None:
    raw = mail(headers=headers).replace(b"Subject: Order", f"Subject: {subject}".encode(), 1)
    assert parse_email(raw).is_auto_reply is expected


DSN = """From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.net>
To: shop@example.com
Subject: Undelivered Mail Returned to Sender
Message-ID: <dsn1@mx.example.net>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="R"

--R
Content-Type: text/plain

Your message could not be delivered.
--R
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; gone@example.org
Action: failed
Status: 5.1.1
--R
Content-Type: {kind}

{original}
--R--
"""
ORIGINAL = "From: shop@example.com\nTo: gone@example.org\nSubject: Your order\nMessage-ID: <orig-42@shop.example.com>\n"


@pytest.mark.parametrize("kind", ["message/rfc822", "text/rfc822-headers"])
def test_dsn_bounce_finds_original_message_id(kind: str) -> None:
    original = ORIGINAL + ("\nYour order shipped." if kind == "message/rfc822" else "")
    p = parse_email(DSN.format(kind=kind, original=original).encode())
    assert p.is_bounce and p.is_auto_reply
    assert p.bounce_original_message_id == "<orig-42@shop.example.com>"
    assert p.message_id == "<dsn1@mx.example.net>"
    assert "could not be delivered" in p.text
    assert "Your order shipped" not in p.text  # a bounced copy is not a forward to read


def test_bounce_from_postmaster_with_original_message_id_field() -> None:
    raw = (b"From: postmaster@example.org\nSubject: failure notice\nMessage-ID: <b2@x>\n\n"
           b"Delivery failed.\nOriginal-Message-ID: <orig-7@shop.example.com>\n")
    p = parse_email(raw)
    assert p.is_bounce and p.bounce_original_message_id == "<orig-7@shop.example.com>"


def test_normal_mail_is_not_a_bounce() -> None:
    p = parse_email(mail("Message-ID: <looks-like@header> in text"))
    assert not p.is_bounce and p.bounce_original_message_id is None


# -- quoted history ------------------------------------------------------------------------

@pytest.mark.parametrize("body", [
    "Thanks, it arrived.\n\nOn Tue, Apr 3, 2012 at 4:19 PM, Shop <shop@example.com> wrote:\n> Your parcel ships today.\n> Regards",
    "Thanks, it arrived.\n\nOn Tue, Apr 3, 2012 at 4:19 PM, Shop Support\n<shop@example.com> wrote:\n\n> Your parcel ships today.",
    "Thanks, it arrived.\n\nAm 03.04.2012 um 16:19 schrieb Shop <shop@example.com>:\n\n> Ihr Paket wird heute versendet.",
    "Thanks, it arrived.\n\nLe 3 avr. 2012 à 16:19, Shop <shop@example.com> a écrit :\n> Votre colis part aujourd'hui.",
    "Thanks, it arrived.\n\nEl 3 abr 2012, a las 16:19, Shop escribió:\n> Su paquete sale hoy.",
    "Thanks, it arrived.\n\n在 2012年4月3日 下午4:19，Shop <shop@example.com> 写道：\n> 您的包裹今天发货。",
    "Thanks, it arrived.\n\n-----Original Message-----\nFrom: Shop\nSent: Tuesday\nSubject: Order\n\nYour parcel ships today.",
    "Thanks, it arrived.\n\n________________________________\nFrom: Shop <shop@example.com>\nSent: Tuesday, April 3, 2012 4:19 PM\nTo: Ann\nSubject: Order\n\nYour parcel ships today.",
    "Thanks, it arrived.\n\n发件人: Shop <shop@example.com>\n发送时间: 2012年4月3日 16:19\n收件人: Ann\n主题: 订单\n\n您的包裹今天发货。",
    "Thanks, it arrived.\n\n> Your parcel ships today.\n> Regards",
])
def test_quoted_history_is_folded(body: str) -> None:
    p = parse_email(mail(body).replace(b"Subject: Order", b"Subject: Re: Order", 1))
    assert p.visible_text == "Thanks, it arrived."
    assert p.text == body  # the original stays whole
    inbound = to_inbound(p)
    assert inbound.text == "Thanks, it arrived." and inbound.metadata["original_text"] == body


def test_signature_is_folded() -> None:
    body = "Please refund.\n\n-- \nAnn Buyer\nhttps://ann.example"
    assert visible_text(body) == "Please refund."
    reply = split_reply(body)
    assert reply.signature.startswith("-- ") and reply.body == body


def test_interleaved_answers_stay_visible() -> None:
    body = "> Which size?\nMedium please.\n> Which colour?\nBlue."
    assert visible_text(body) == body


def test_forwarded_message_marker_keeps_content_visible() -> None:
    body = ("Please look at this complaint.\n\n---------- Forwarded message ---------\n"
            "From: Customer <c@example.org>\nDate: Mon, 2 Apr 2012\nSubject: Broken item\nTo: ann@example.com\n\n"
            "The mug arrived broken.\n\nOn Sun, Apr 1, 2012, Shop wrote:\n> Shipped!")
    p = parse_email(mail(body).replace(b"Subject: Order", b"Subject: Fwd: Broken item", 1))
    assert "The mug arrived broken." in p.visible_text
    assert "From: Customer <c@example.org>" in p.visible_text


def test_forwarded_outlook_block_with_fw_subject_stays_visible() -> None:
    body = "FYI\n\n-----Original Message-----\nFrom: Customer\nSent: Monday\nSubject: Broken\n\nThe mug arrived broken."
    p = parse_email(mail(body).replace(b"Subject: Order", b"Subject: FW: Broken", 1))
    assert "The mug arrived broken." in p.visible_text


def test_attached_rfc822_message_is_shown_and_kept() -> None:
    inner = ("From: Customer <c@example.org>\nSubject: Broken item\nDate: Mon, 02 Apr 2012 10:00:00 +0000\n"
             "Message-ID: <inner@example.org>\n\nThe mug arrived broken.\n")
    raw = mail(ctype='multipart/mixed; boundary="f"', body=(
        "--f\nContent-Type: text/plain\n\nSee the forwarded mail.\n"
        f"--f\nContent-Type: message/rfc822\n\n{inner}--f--\n"))
    p = parse_email(raw)
    assert "See the forwarded mail." in p.visible_text
    assert "The mug arrived broken." in p.visible_text
    assert "From: Customer <c@example.org>" in p.text and "Subject: Broken item" in p.text
    [att] = p.attachments
    assert att.content_type == "message/rfc822" and att.filename == "Broken item.eml"
    assert b"Message-ID: <inner@example.org>" in att.data


def test_attached_message_keeps_its_header_lines_as_received() -> None:
    long_received = "Received: from mx.example.org (mx.example.org [192.0.2.1]) by mail.shop.example " \
                    "(Postfix) with ESMTPS id 4Abc for <shop@example.com>; Mon, 02 Apr 2012 10:00:00 +0000"
    inner = (f"{long_received}\nFrom: Customer <c@example.org>\nSubject: Broken\n"
             "X-Folded: first part\n\tsecond part\n\nThe mug arrived broken.\n")
    raw = mail(ctype='multipart/mixed; boundary="f"', body=(
        "--f\nContent-Type: text/plain\n\nSee below.\n"
        f"--f\nContent-Type: message/rfc822\n\n{inner}--f--\n"))
    [att] = parse_email(raw).attachments
    assert long_received.encode() + b"\n" in att.data  # not refolded at 78 characters
    assert b"X-Folded: first part\n\tsecond part\n" in att.data
    assert att.data.endswith(b"\n\nThe mug arrived broken.")


def test_talon_style_html_reply_folding() -> None:
    html = ("<div>Fine, thanks.</div><div class=gmail_quote>On Thu, Jun 26, 2014 at 2:14 PM, Bob "
            "&lt;<a href='mailto:b@x.com'>b@x.com</a>&gt; wrote:<br><blockquote>How are you?</blockquote></div>")
    p = parse_email(mail(html, ctype="text/html; charset=utf-8"))
    assert p.visible_text == "Fine, thanks."
    assert "> How are you?" in p.text


# -- broken structure ------------------------------------------------------------------------

def test_truncated_mime_without_closing_boundary() -> None:
    raw = mail(ctype='multipart/mixed; boundary="t"', body=(
        "--t\nContent-Type: text/plain\n\nStill readable text\n"
        '--t\nContent-Type: application/pdf\nContent-Disposition: attachment; filename="cut.pdf"\n'
        "Content-Transfer-Encoding: base64\n\nJVBERi0xLjQKJ"))
    p = parse_email(raw)
    assert p.text == "Still readable text"
    assert [a.filename for a in p.attachments] == ["cut.pdf"]
    assert p.attachments[0].data == b"%PDF-1.4\n"  # the lone last character carries no byte
    assert "part not closed by its boundary" in p.defects


def test_boundary_folded_inside_its_quotes() -> None:
    # Unfolding keeps the blank: the boundary is "foo bar", and its lines say so.
    raw = mail(ctype='multipart/mixed; boundary="foo\n bar"', body=(
        "--foo bar\nContent-Type: text/plain\n\nFirst\n"
        '--foo bar\nContent-Type: text/plain\nContent-Disposition: attachment; filename="notes.txt"\n\nx\n'
        "--foo bar--\n"))
    p = parse_email(raw)
    assert p.text == "First"
    assert [a.filename for a in p.attachments] == ["notes.txt"]


def test_inner_boundary_that_is_the_outer_one_plus_dashes() -> None:
    # "--a----" opens the inner part ("a----"), and "--a------" closes it; only after that
    # is "--a----" the outer's close. The stdlib alone reads the first as the outer's close.
    raw = mail(ctype='multipart/mixed; boundary="a--"', body=(
        '--a--\nContent-Type: multipart/mixed; boundary="a----"\n\n'
        "--a----\nContent-Type: text/plain\n\nfirst\n--a------\n"
        "--a--\nContent-Type: text/plain\n\nsecond\n--a----\n"))
    p = parse_email(raw)
    assert p.text == "first\nsecond"
    assert p.defects == []


def test_quoted_printable_with_trailing_blanks_in_encoding_label() -> None:
    p = parse_email(mail("caf=C3=A9 =\nok", cte="quoted-printable   "))
    assert p.text == "café ok"


def test_format_flowed_is_reflowed() -> None:
    p = parse_email(mail("This is a long \nparagraph.\n\n-- \nsig", ctype="text/plain; charset=utf-8; format=flowed"))
    assert p.text == "This is a long paragraph.\n\n-- \nsig"
    assert p.visible_text == "This is a long paragraph."


def test_header_with_space_before_colon_is_repaired() -> None:
    raw = b"Subject : Hello\nFrom: a@b.c\nContent-Type: text/plain\n\nBody"
    p = parse_email(raw)
    assert p.subject == "Hello" and p.text == "Body" and p.from_email == "a@b.c"


# -- to_inbound ------------------------------------------------------------------------------

def test_to_inbound_mapping() -> None:
    raw = mail("New text\n\n> old", headers="In-Reply-To: <a@x>\nReferences: <r@x> <a@x> <r@x>\nCc: c@x.org\n")
    p = parse_email(raw)
    m = to_inbound(p)
    assert m.external_id == "<m1@example.com>"
    assert m.sender_handle == m.sender_email == "ann@example.com" and m.sender_name == "Ann Buyer"
    assert m.subject == "Order" and m.text == "New text"
    assert m.references == ["<r@x>", "<a@x>"]  # oldest first, the parent last
    assert m.sent_at == p.date and m.sent_at is not None and m.sent_at.tzinfo is not None
    assert m.metadata == {"to": ["shop@example.com"], "cc": ["c@x.org"], "original_text": "New text\n\n> old"}
    assert m.is_auto_reply is False and m.attachments == []


def test_to_inbound_without_folding_has_no_original_text() -> None:
    m = to_inbound(parse_email(mail("Just this")))
    assert m.text == "Just this" and "original_text" not in m.metadata
    assert m.sent_at is not None and m.sent_at.astimezone(timezone.utc).hour == 12
