"""Mail as real servers deliver it (issue 18): each mail here is written for this suite and shows
one class of damage the parser met in the wild, with what a careful mail client would show."""

from __future__ import annotations

import base64

import pytest

from plugins.email.charsets import decode_bytes
from plugins.email.headers import decode_header
from plugins.email.parse import parse_email

HEAD = (b"From: Ann Buyer <ann@buyer.example>\r\nTo: support@shop.example\r\n"
        b"Subject: Broken lamp\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <rw1@buyer.example>\r\n")


# -- header and body: where one ends and the other begins ------------------------------------------

def test_a_first_line_of_white_space_does_not_hide_the_header():
    picture = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 300).decode()
    raw = (b" \r\n" + HEAD + b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
           b"--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe lamp flickers.\r\n"
           b"--b1\r\nContent-Type: image/png; name=\"lamp.png\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
           + picture.encode() + b"\r\n--b1--\r\n")
    parsed = parse_email(raw)
    assert parsed.subject == "Broken lamp"
    assert parsed.from_email == "ann@buyer.example"
    assert parsed.message_id == "<rw1@buyer.example>"
    assert parsed.readable_text == "The lamp flickers."
    assert [a.filename for a in parsed.attachments] == ["lamp.png"]


def test_a_blank_line_holding_a_space_still_ends_the_header():
    raw = HEAD + b" \r\nThe lamp flickers.\r\nSince Monday.\r\n"
    parsed = parse_email(raw)
    assert parsed.subject == "Broken lamp"
    assert parsed.readable_text == "The lamp flickers.\r\nSince Monday.".replace("\r", "")


def test_a_mail_without_a_blank_line_keeps_its_first_body_line():
    raw = HEAD + b"The lamp flickers.\r\nSince Monday.\r\n"
    parsed = parse_email(raw)
    assert parsed.subject == "Broken lamp" and parsed.from_email == "ann@buyer.example"
    assert parsed.readable_text == "The lamp flickers.\nSince Monday."


def test_mime_part_headers_without_a_blank_line_keep_their_text():
    raw = (HEAD + b"MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n"
           b"--alt\r\nContent-Type: text/plain; charset=utf-8\r\nThe lamp flickers.\r\n"
           b"--alt\r\nContent-Type: text/html; charset=utf-8\r\n<p>The lamp <b>flickers</b>.</p>\r\n"
           b"--alt--\r\n")
    parsed = parse_email(raw)
    assert parsed.readable_text == "The lamp flickers."
    assert "<b>flickers</b>" in (parsed.unsafe_html or "")


def test_a_mail_with_no_header_at_all_is_all_body():
    raw = b"Hello, the lamp I bought flickers.\r\nCan you send a new one?\r\n"
    parsed = parse_email(raw)
    assert parsed.readable_text == "Hello, the lamp I bought flickers.\nCan you send a new one?"
    assert parsed.subject == "" and parsed.from_email == ""


def test_a_stray_line_inside_the_header_is_still_skipped():
    # A line that is no field, followed by more fields: the header goes on (the old reading).
    raw = HEAD.replace(b"Subject:", b"garbage line without a colon\r\nSubject:") + b"\r\nBody.\r\n"
    parsed = parse_email(raw)
    assert parsed.subject == "Broken lamp" and parsed.readable_text == "Body."


# -- boundaries --------------------------------------------------------------------------------

def test_a_boundary_in_the_middle_of_a_line_does_not_end_the_part():
    raw = (HEAD + b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"cut\"\r\n\r\n"
           b"--cut\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
           b"Our separator looks like this: --cut and the text goes on.\r\nSecond line.\r\n"
           b"--cut\r\nContent-Type: text/plain; charset=utf-8; name=\"note.txt\"\r\n"
           b"Content-Disposition: attachment; filename=\"note.txt\"\r\n\r\nnote\r\n--cut--\r\n")
    parsed = parse_email(raw)
    assert parsed.readable_text == "Our separator looks like this: --cut and the text goes on.\nSecond line."
    assert [(a.filename, a.data) for a in parsed.attachments] == [("note.txt", b"note")]


# -- senders -------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["ann@buyer.example, bob@buyer.example", "ann@buyer.example bob@buyer.example"])
def test_a_from_with_two_bare_addresses_names_the_first(value):
    raw = HEAD.replace(b"From: Ann Buyer <ann@buyer.example>", f"From: {value}".encode()) + b"\r\nHi\r\n"
    parsed = parse_email(raw)
    assert parsed.from_email == "ann@buyer.example"


# -- 8-bit headers and bodies without a charset -----------------------------------------------------

def test_a_raw_windows_1252_subject_reads_as_western_text():
    subject = "Reclamação do pedido – não chegou".encode("cp1252")
    raw = HEAD.replace(b"Subject: Broken lamp", b"Subject: " + subject) + b"\r\nOla\r\n"
    assert parse_email(raw).subject == "Reclamação do pedido – não chegou"


@pytest.mark.parametrize("text", ["Café crème", "Déjà vu encore", "Año nuevo", "Número do pedido", "Pièce jointe"])
def test_short_latin_1_subjects_read_as_western_text(text):
    raw = HEAD.replace(b"Subject: Broken lamp", b"Subject: " + text.encode("latin-1")) + b"\r\nx\r\n"
    assert parse_email(raw).subject == text


def test_a_trailing_windows_1252_ellipsis_is_kept():
    raw = HEAD.replace(b"Subject: Broken lamp", b"Subject: Thanks for the quick answer\x85") + b"\r\nx\r\n"
    assert parse_email(raw).subject == "Thanks for the quick answer…"
    assert decode_header(b"Wait\x85".decode("ascii", "surrogateescape")) == "Wait…"


def test_a_raw_subject_uses_the_charset_the_mail_declares():
    # Latin-2 bytes that Windows-1252 would misread: the body's declared charset decides.
    subject = "Reklamace: zásilka nedorazila, prosím o řešení".encode("iso-8859-2")
    raw = (HEAD.replace(b"Subject: Broken lamp", b"Subject: " + subject)
           + b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=iso-8859-2\r\n\r\n"
           + "Dobrý den".encode("iso-8859-2") + b"\r\n")
    parsed = parse_email(raw)
    assert parsed.subject == "Reklamace: zásilka nedorazila, prosím o řešení"
    assert parsed.readable_text == "Dobrý den"


@pytest.mark.parametrize("codec, text", [
    ("gb18030", "关于我的订单没有收到货物的问题"),
    ("big5", "關於我的訂單沒有收到貨物的問題"),
    ("shift_jis", "注文した商品がまだ届いていません"),
    ("euc-kr", "주문한 상품이 아직 도착하지 않았습니다"),
])
def test_raw_cjk_subjects_without_a_declared_charset_still_decode(codec, text):
    raw = HEAD.replace(b"Subject: Broken lamp", b"Subject: " + text.encode(codec)) + b"\r\nx\r\n"
    assert parse_email(raw).subject == text


def test_a_raw_iso_2022_jp_subject_decodes():
    text = "注文した商品が届きません"
    raw = HEAD.replace(b"Subject: Broken lamp", b"Subject: " + text.encode("iso-2022-jp")) + b"\r\nx\r\n"
    assert parse_email(raw).subject == text


def test_a_body_without_a_declared_charset_reads_as_western_text():
    body = "Olá, a encomenda não chegou. Obrigado pela atenção, João".encode("cp1252")
    raw = HEAD + b"\r\n" + body + b"\r\n"
    assert parse_email(raw).readable_text == "Olá, a encomenda não chegou. Obrigado pela atenção, João"
    assert decode_bytes("Grüße, Jürgen".encode("cp1252"))[0] == "Grüße, Jürgen"


def test_a_long_body_without_a_charset_in_a_cjk_encoding_decodes():
    text = "您好，我上周订购的台灯到现在还没有收到，请帮我查一下物流信息，谢谢。"
    raw = HEAD + b"\r\n" + text.encode("gb18030") + b"\r\n"
    assert parse_email(raw).readable_text == text


# -- bounces ---------------------------------------------------------------------------------------

def test_an_ordinary_mail_from_postmaster_is_no_bounce():
    raw = HEAD.replace(b"From: Ann Buyer <ann@buyer.example>", b"From: Postmaster <postmaster@buyer.example>")
    parsed = parse_email(raw + b"\r\nHello, our store would like to order 40 lamps.\r\n")
    assert not parsed.is_bounce and not parsed.is_auto_reply


def test_a_bounce_in_a_known_non_dsn_format_is_a_bounce():
    # qmail's format: no multipart/report, the original quoted after a fixed line.
    raw = (b"From: MAILER-DAEMON@mx.buyer.example\r\nTo: support@shop.example\r\n"
           b"Subject: failure notice\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
           b"Message-ID: <q1@mx.buyer.example>\r\n\r\n"
           b"Hi. This is the qmail-send program at mx.buyer.example.\r\n"
           b"I'm afraid I wasn't able to deliver your message to the following addresses.\r\n"
           b"This is a permanent error; I've given up. Sorry it didn't work out.\r\n\r\n"
           b"<ann@buyer.example>:\r\nSorry, no mailbox here by that name. (#5.1.1)\r\n\r\n"
           b"--- Below this line is a copy of the message.\r\n\r\n"
           b"From: support@shop.example\r\nMessage-ID: <ours-1@shop.example>\r\nSubject: Re: lamp\r\n\r\nHi\r\n")
    parsed = parse_email(raw)
    assert parsed.is_bounce and parsed.bounce_original_message_id == "<ours-1@shop.example>"


def test_an_ordinary_mail_from_postmaster_opens_a_ticket_on_ingest():
    from plugins.email.receive import receive
    from plugins.email.settings import EmailAccountSettings

    raw = HEAD.replace(b"From: Ann Buyer <ann@buyer.example>", b"From: Postmaster <postmaster@buyer.example>")
    received = receive(raw + b"\r\nPlease send the invoice again.\r\n",
                       EmailAccountSettings(from_address="support@shop.example"), "support")
    assert received.statuses == [] and len(received.messages) == 1
    message = received.messages[0]
    assert message.may_open_ticket and not message.is_auto_reply
    assert message.sender_email == "postmaster@buyer.example"
