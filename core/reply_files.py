"""Files an agent sends with a reply: the rules a channel sets for them, the check the server makes
before anything is stored, and the way they are kept (like inbound attachments, core.attachments)
and read back for delivery.

The rules come from the channel type's ChannelLimits merged with what reply_constraints hooks return
for the ticket (core.context.reply_constraints), capped by the desk's ``max_reply_files_bytes``. The
reply box shows the same rules and checks them in the browser (web/static/reply-files.js); this
module is the check that counts.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core import attachments
from core.errors import N_, Invalid, InvalidRequest, PayloadTooLarge, RelaydeskError, UnsupportedType
from core.types import InboundAttachment

if TYPE_CHECKING:
    from core.desk import Desk

GENERIC_TYPE = "application/octet-stream"
# Where the name people use differs from the extension mimetypes picks first.
LABELS = {"audio/ogg": ".ogg", "video/3gpp": ".3gp", "audio/mp4": ".m4a"}


@dataclass(slots=True)
class FileRules:
    """What one reply may carry on a ticket's channel. `max_count` 0: no files at all."""

    max_count: int
    max_bytes: int  # per file, already capped by the desk's total
    total_bytes: int  # the desk's cap on all files of one reply
    types: dict[str, int] = field(default_factory=dict)  # pattern -> cap (0: max_bytes); empty: any

    def cap_for(self, content_type: str) -> int | None:
        """The largest size a file of this type may have, or None when the type is refused."""
        if not self.types:
            return self.max_bytes
        major = content_type.split("/", 1)[0] + "/*"
        for pattern in (content_type, major):
            if pattern in self.types:
                own = self.types[pattern]
                return min(own, self.max_bytes) if own else self.max_bytes
        return None

    def as_dict(self) -> dict[str, Any]:
        """For the reply box (data attributes read by reply-files.js)."""
        return {"max_count": self.max_count, "max_bytes": self.max_bytes, "total_bytes": self.total_bytes,
                "types": {k: (min(v, self.max_bytes) if v else self.max_bytes) for k, v in self.types.items()}}

    def type_groups(self) -> list[tuple[list[str], int]]:
        """The accepted types as people name them (JPG, PDF, DOCX...), grouped by their size cap,
        smallest cap first: how the reply box says what goes."""
        groups: dict[int, list[str]] = {}
        for pattern, cap in self.as_dict()["types"].items():
            label = type_label(pattern)
            if label not in groups.setdefault(cap, []):
                groups[cap].append(label)
        return sorted(((labels, cap) for cap, labels in groups.items()), key=lambda group: group[1])

    @property
    def accept(self) -> str:
        """The file input's accept attribute: the types, or nothing when any type goes."""
        return ",".join(self.types)


def rules(limits: dict[str, Any], desk_cap: int) -> FileRules:
    """The file rules from a reply box's limits (ChannelLimits fields plus reply_constraints keys)."""
    count = limits.get("max_attachments") or 0
    per_file = limits.get("max_attachment_bytes") or desk_cap
    types = limits.get("attachment_types") or {}
    return FileRules(max_count=max(0, int(count)), max_bytes=min(int(per_file), desk_cap), total_bytes=desk_cap,
                     types={str(k).lower(): int(v or 0) for k, v in dict(types).items()})


def body_limit(settings: Any) -> int:
    """The largest request body a reply may have (the inbox's multipart form, the API's JSON): its
    files, base64 in JSON taking 4/3 of their size, plus a megabyte for the text and the framing."""
    return max(settings.max_webhook_bytes, settings.max_reply_files_bytes * 4 // 3 + 1_048_576)


def type_label(pattern: str) -> str:
    """image/jpeg -> JPG, application/vnd.openxmlformats-...document -> DOCX, audio/x-m4a -> M4A,
    video/* -> VIDEO."""
    major, _, minor = pattern.partition("/")
    if minor == "*":
        return major.upper()
    extension = LABELS.get(pattern) or mimetypes.guess_extension(pattern)
    return (extension[1:] if extension else minor.removeprefix("x-")).upper()


def content_type_of(declared: str | None, filename: str) -> str:
    """The declared MIME type without parameters, lower-cased; guessed from the file name when the
    sender gave none (or only the generic one)."""
    value = (declared or "").split(";", 1)[0].strip().lower()
    if not value or value == GENERIC_TYPE or "/" not in value:
        value = (mimetypes.guess_type(filename)[0] or GENERIC_TYPE).lower()
    return value[:127]


def human_size(size: int) -> str:
    """1.5 MB, 300 KB: how the reply box and refusals say sizes (decimal units, as the platforms do)."""
    if size >= 1_000_000:
        return f"{size / 1_000_000:.1f}".rstrip("0").rstrip(".") + " MB"
    return f"{max(1, round(size / 1000))} KB"


def _refuse(cls: type[RelaydeskError], template: str, **params: Any) -> RelaydeskError:
    """An error with the status of `cls` whose text the inbox shows in the agent's language."""
    problem = Invalid(template, **params)
    error = cls(str(problem))
    error.__cause__ = problem
    return error


def check(files: list[InboundAttachment], file_rules: FileRules) -> list[InboundAttachment]:
    """The files as they will be stored (safe names, plain MIME types), or a refusal: 400 when the
    channel sends no files, for too many and for empty ones; 413 for a file or a total too large;
    415 for a type the channel does not send."""
    if not files:
        return []
    if file_rules.max_count == 0:
        raise _refuse(InvalidRequest, N_("This channel cannot send files; remove them and send the text alone."))
    if len(files) > file_rules.max_count:
        raise _refuse(InvalidRequest, N_("At most {count} files can go with one reply on this channel."),
                      count=file_rules.max_count)
    out: list[InboundAttachment] = []
    total = 0
    for item in files:
        name = attachments.safe_filename(item.filename)
        kind = content_type_of(item.content_type, name)
        size = len(item.data)
        if size == 0:
            raise _refuse(InvalidRequest, N_("{name} is empty."), name=name)
        cap = file_rules.cap_for(kind)
        if cap is None:
            raise _refuse(UnsupportedType, N_("{name}: this channel does not send files of type {type}."),
                          name=name, type=kind)
        if size > cap:
            raise _refuse(PayloadTooLarge, N_("{name} is {size}; this channel takes at most {max} per file."),
                          name=name, size=human_size(size), max=human_size(cap))
        total += size
        out.append(InboundAttachment(filename=name, content_type=kind, data=item.data))
    if total > file_rules.total_bytes:
        raise _refuse(PayloadTooLarge, N_("The files come to {size}; one reply takes at most {max}."),
                      size=human_size(total), max=human_size(file_rules.total_bytes))
    return out


async def rules_for_ticket(desk: "Desk", ticket: dict[str, Any]) -> FileRules:
    from core.context import reply_constraints

    return rules(await reply_constraints(desk, ticket), desk.settings.max_reply_files_bytes)


def write(data_dir: Path, files: list[InboundAttachment]) -> list[tuple[InboundAttachment, str, str]]:
    """Put the bytes on disk before the reply's transaction (content-addressed, so a reply that is
    then refused leaves only a file no row names): [(file, sha256, path)]."""
    return [(item, *attachments.store(data_dir, item)) for item in files]


async def add_rows(message_id: int, written: list[tuple[InboundAttachment, str, str]], now: Any) -> None:
    """The attachment rows of a stored reply; call inside the reply's transaction."""
    from core.tables import Attachment

    for item, digest, path in written:
        await Attachment.insert(Attachment(
            message=message_id, filename=item.filename, content_type=item.content_type, size=len(item.data),
            sha256=digest, storage_path=path, inline=False, created_at=now,
        ))


async def load(data_dir: Path, message_id: int) -> list[InboundAttachment]:
    """A stored reply's files, read back for its delivery (oldest first)."""
    from core.errors import ChannelError
    from core.tables import Attachment

    rows = await Attachment.select(Attachment.filename, Attachment.content_type, Attachment.storage_path,
                                   Attachment.content_id, Attachment.inline).where(
        Attachment.message == message_id).order_by(Attachment.id)
    out: list[InboundAttachment] = []
    root = Path(data_dir).resolve()
    for row in rows:
        path = (root / row["storage_path"]).resolve()
        if root not in path.parents or not path.is_file():
            raise ChannelError(f"the file {row['filename']} of this reply is missing from the data folder",
                               retryable=False)
        out.append(InboundAttachment(filename=row["filename"], content_type=row["content_type"],
                                     data=path.read_bytes(), content_id=row["content_id"], inline=row["inline"]))
    return out
