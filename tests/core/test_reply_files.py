"""core.reply_files: a channel's file rules and the server's check of a reply's files."""

from __future__ import annotations

import pytest

from core import reply_files
from core.errors import InvalidRequest, PayloadTooLarge, UnsupportedType
from core.types import InboundAttachment

MB = 1000 * 1000
WHATSAPP_LIKE = {"max_attachments": 2, "max_attachment_bytes": 100 * MB,
                 "attachment_types": {"image/jpeg": 5 * MB, "application/pdf": 0, "audio/*": 16 * MB}}


def file(name: str, size: int, kind: str = "image/jpeg") -> InboundAttachment:
    return InboundAttachment(filename=name, content_type=kind, data=b"x" * size)


def test_rules_cap_each_type_by_the_channel_and_the_desk():
    rules = reply_files.rules(WHATSAPP_LIKE, desk_cap=25 * MB)
    assert rules.max_count == 2 and rules.max_bytes == 25 * MB
    assert rules.cap_for("image/jpeg") == 5 * MB
    assert rules.cap_for("application/pdf") == 25 * MB  # 0: the channel's per-file cap, then the desk's
    assert rules.cap_for("audio/ogg") == 16 * MB  # a family pattern
    assert rules.cap_for("image/webp") is None
    assert rules.accept == "image/jpeg,application/pdf,audio/*"
    assert reply_files.rules({}, desk_cap=MB).max_count == 0  # no max_attachments: the channel sends no files
    assert reply_files.rules({"max_attachments": 3}, desk_cap=MB).cap_for("application/zip") == MB


def test_check_passes_files_with_safe_names_and_plain_types():
    rules = reply_files.rules(WHATSAPP_LIKE, desk_cap=25 * MB)
    [out] = reply_files.check([InboundAttachment("../../etc/收据.pdf", "Application/PDF; name=x", b"%PDF")], rules)
    assert out.filename == "收据.pdf" and out.content_type == "application/pdf" and out.data == b"%PDF"
    [guessed] = reply_files.check([InboundAttachment("photo.jpg", "", b"\xff\xd8")], rules)
    assert guessed.content_type == "image/jpeg"


@pytest.mark.parametrize("files, error, words", [
    ([file("a.jpg", 10)] * 3, InvalidRequest, "At most 2 files"),
    ([file("big.jpg", 5 * MB + 1)], PayloadTooLarge, "big.jpg is 5 MB; this channel takes at most 5 MB"),
    ([file("tool.exe", 10, "application/x-msdownload")], UnsupportedType, "application/x-msdownload"),
    ([file("empty.jpg", 0)], InvalidRequest, "empty.jpg is empty"),
    ([file("a.pdf", 13 * MB, "application/pdf"), file("b.pdf", 13 * MB, "application/pdf")], PayloadTooLarge,
     "The files come to 26 MB; one reply takes at most 25 MB"),
])
def test_check_refuses_with_the_status_and_a_reason(files, error, words):
    rules = reply_files.rules(WHATSAPP_LIKE, desk_cap=25 * MB)
    with pytest.raises(error) as caught:
        reply_files.check(files, rules)
    assert words in caught.value.message
    assert caught.value.status_code in (400, 413, 415)


def test_a_channel_without_files_refuses_any():
    with pytest.raises(InvalidRequest, match="cannot send files"):
        reply_files.check([file("a.jpg", 1)], reply_files.rules({"max_attachments": 0}, desk_cap=MB))
    assert reply_files.check([], reply_files.rules({}, desk_cap=MB)) == []


def test_human_size():
    assert [reply_files.human_size(n) for n in (1, 1500, 999_999, 5 * MB, 1_250_000)] == \
        ["1 KB", "2 KB", "1000 KB", "5 MB", "1.2 MB"]


def test_type_groups_name_types_as_people_do():
    rules = reply_files.rules({"max_attachments": 1, "max_attachment_bytes": 25 * MB, "attachment_types": {
        "image/jpeg": 8 * MB, "image/png": 8 * MB, "audio/x-m4a": 0, "video/*": 0,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document": 0}}, desk_cap=25 * MB)
    assert rules.type_groups() == [(["JPG", "PNG"], 8 * MB), (["M4A", "VIDEO", "DOCX"], 25 * MB)]
