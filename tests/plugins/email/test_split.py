"""How a raw mail is split into MIME parts: one rule per test, on small hand-written mails."""

from __future__ import annotations

import base64

import pytest

from plugins.email.charsets import decode_bytes
from plugins.email.parse import parse_email, to_inbound
from plugins.email.split import decode_base64, split_mail

HEAD = "From: Ann Buyer <ann@example.com>\nSubject: Order\nMessage-ID: <m1@example.com>\n"


def mail(ctype: str, body: str) -> bytes:
    return f"{HEAD}MIME-Version: 1.0\nContent-Type: {ctype}\n\n{body}".encode()


def test_a_part_ends_only_at_its_own_boundary() -> None:
    # "--outer" inside the still open inner multipart is no delimiter of the inner one: the
    # inner part runs to the end, damaged, and is kept whole as a text attachment.
    raw = mail('multipart/mixed; boundary="outer"', (
        '--outer\nContent-Type: multipart/mixed; boundary="inner"\n\n'
        "--inner\nContent-Type: text/plain\n\nfirst\n"
        "--inner\nContent-Type: text/plain\n\nsecond\n"
        "--outer\nContent-Type: text/plain\n\nthird\n"))
    p = parse_email(raw)
    assert p.text == "first"
    assert [(a.filename, a.content_type) for a in p.attachments] == [("attachment-1.txt", "text/plain")]
    assert p.attachments[0].data == b"second\n--outer\nContent-Type: text/plain\n\nthird\n"
    assert "part not closed by its boundary" in p.defects


def test_a_closed_inner_multipart_hands_back_to_the_outer_one() -> None:
    raw = mail('multipart/mixed; boundary="outer"', (
        "preamble\n--outer\n"
        'Content-Type: multipart/alternative; boundary="inner"\n\n'
        "--inner\nContent-Type: text/plain\n\nplain\n"
        "--inner\nContent-Type: text/html\n\n<p>html</p>\n--inner--\nignored epilogue\n"
        '--outer\nContent-Type: text/csv; name="a.csv"\n\na,b\n--outer--\n'))
    p = parse_email(raw)
    assert p.text == "plain"
    assert [(a.filename, a.data) for a in p.attachments] == [("a.csv", b"a,b")]
    assert p.defects == []


def test_a_delimiter_in_mid_line_ends_the_part_there() -> None:
    raw = mail('multipart/mixed; boundary="b1"', "--b1\nContent-Type: text/plain\n\nthe end--b1--\n")
    assert parse_email(raw).text == "the end"


def test_a_header_line_without_colon_is_skipped() -> None:
    raw = mail('multipart/mixed; boundary="b"', (
        "--b\nthis line is noise\nContent-Type: text/plain; charset=utf-8\n\nbody text\n--b--\n"))
    assert parse_email(raw).text == "body text"


def test_of_two_content_types_the_last_counts() -> None:
    raw = (f"{HEAD}Content-Type: text/html\nContent-Type: text/plain\n\n<b>kept as text</b>").encode()
    p = parse_email(raw)
    assert p.text == "<b>kept as text</b>" and p.unsafe_html is None


def test_a_multipart_whose_boundary_never_comes_is_a_text_attachment_the_desk_still_shows() -> None:
    raw = mail('multipart/mixed; boundary="gone"', "Hello, where is my parcel?\n")
    p = parse_email(raw)
    assert p.text == ""
    assert [a.data for a in p.attachments] == [b"Hello, where is my parcel?\n"]
    # What the desk stores and shows: the recovered text, so the agent can answer.
    assert p.readable_text == "Hello, where is my parcel?"
    assert to_inbound(p).text == "Hello, where is my parcel?"


def test_an_empty_text_version_shows_the_html_one() -> None:
    raw = mail('multipart/alternative; boundary="a"', (
        "--a\nContent-Type: text/plain\n\n\n--a\nContent-Type: text/html\n\n<p>Real words</p>\n--a--\n"))
    p = parse_email(raw)
    assert p.text == ""  # the text body, as sent
    assert p.readable_text == "Real words" and to_inbound(p).text == "Real words"


def test_an_attached_message_keeps_its_bytes_as_they_came() -> None:
    inner = "From: Bob <bob@example.org>\nSubject:   spaced   \nX-Odd:  folded\n  value\n\nInner text\n"
    raw = mail('multipart/mixed; boundary="m"', (
        f"--m\nContent-Type: text/plain\n\nSee below\n--m\nContent-Type: message/rfc822\n\n{inner}--m--\n"))
    p = parse_email(raw)
    assert [(a.content_type, a.data) for a in p.attachments] == [("message/rfc822", inner.rstrip("\n").encode())]
    assert "Inner text" in p.text and "From: Bob <bob@example.org>" in p.text


def test_an_attached_message_that_is_one_unclosed_text_is_still_read() -> None:
    raw = mail('multipart/mixed; boundary="m"', (
        "--m\nContent-Type: text/plain\n\nSee below\n"
        "--m\nContent-Type: message/rfc822\n\nFrom: bob@example.org\nSubject: Old\n\nold words\n"))
    p = parse_email(raw)
    assert p.text.startswith("See below\n\n---------- Forwarded message ---------\nFrom: bob@example.org")
    assert p.text.endswith("old words")


def test_an_attached_message_without_header_block_is_damaged_text() -> None:
    raw = mail('multipart/mixed; boundary="B"', (
        "--B\nContent-Type: text/plain\n\nhello\n"
        '--B\nContent-Type: message/rfc822\nContent-Disposition: attachment; filename="broken.eml"\n\n'
        "not a mail at all\n--B--\n"))
    p = parse_email(raw)
    assert p.text == "hello"
    assert [(a.filename, a.content_type, a.data) for a in p.attachments] == [
        ("broken.eml", "text/plain", b"not a mail at all")]


def test_a_header_block_cut_by_the_end_of_the_data_keeps_its_fields() -> None:
    p = parse_email(b"From: ann@example.com\nSubject: only headers")
    assert (p.from_email, p.subject, p.text) == ("ann@example.com", "only headers", "")


def test_digest_parts_default_to_messages() -> None:
    msg = split_mail(mail('multipart/digest; boundary="d"', (
        "--d\n\nFrom: a@example.com\nSubject: one\n\nfirst\n--d\n\nFrom: b@example.com\nSubject: two\n\nsecond\n--d--\n")))
    assert [part.get_content_type() for part in msg.get_payload()] == ["message/rfc822", "message/rfc822"]
    p = parse_email(msg.as_bytes())
    assert p.text.count("---------- Forwarded message ---------") == 2


def test_nesting_deeper_than_the_limit_stops_without_raising() -> None:
    body = "".join(f'--b{i}\nContent-Type: multipart/mixed; boundary="b{i + 1}"\n\n' for i in range(200))
    p = parse_email(mail('multipart/mixed; boundary="b0"', body + "--b200\nContent-Type: text/plain\n\ndeep\n"))
    assert isinstance(p.text, str)


@pytest.mark.parametrize(("body", "decoded"), [
    (b"aGVsbG8=", b"hello"),
    (b"aGVs\r\nbG8=\r\n", b"hello"),  # line breaks are not data
    (b"aGVsbG8", b"hello"),  # padding left out
    (b"aGVsbG8=d29ybGQ=", b"helloworld"),  # runs one after another
    (b"aGVsbG8= d29y", b"hellowor"),
    (b"aGVsbG8=d29", b"hello"),  # an unpadded partial group after a padded run is noise
    (b"aGVsbG8?", None),  # a character outside the alphabet: not base64
])
def test_decode_base64(body: bytes, decoded: bytes | None) -> None:
    assert decode_base64(body) == decoded


def test_decode_base64_matches_the_standard_decoder_on_valid_input() -> None:
    for size in range(0, 70):
        data = bytes(range(size))
        encoded = base64.encodebytes(data)
        assert decode_base64(encoded) == data


def test_utf8_with_a_few_broken_bytes_stays_utf8() -> None:
    text, problem = decode_bytes("yötä vaan. ".encode() + b"\x8a\t\xe8", "utf-8")
    assert text == "yötä vaan. \ufffd\t\ufffd" and problem


def test_utf16_with_a_dangling_byte_is_still_utf16() -> None:
    text, _ = decode_bytes("Test".encode("utf-16-le") + b"\x00", "utf-16le")
    assert text == "Test"


def test_a_mail_whose_only_text_part_is_never_closed_is_still_read() -> None:
    # Scripts often forget the closing delimiter: the part is damaged, the desk shows its text.
    raw = mail('multipart/mixed; boundary="X"', "--X\nContent-Type: text/plain\n\nWhere is order 123?\n")
    p = parse_email(raw)
    assert p.text == "" and [a.data for a in p.attachments] == [b"Where is order 123?\n"]
    assert to_inbound(p).text == "Where is order 123?"


def test_an_mbox_envelope_line_is_no_header_field() -> None:
    # An MTA pipe may prepend "From sender date"; its colons make no header field.
    p = parse_email(b"From ann@example.com Mon Nov 30 10:00:00 2026\n" + mail("text/plain", "Body"))
    assert (p.from_email, p.subject, p.text) == ("ann@example.com", "Order", "Body")
    assert not any(name.lower().startswith("from ") for name in split_mail(
        b"From ann@example.com Mon Nov 30 10:00:00 2026\nSubject: x\n\nBody").keys())
