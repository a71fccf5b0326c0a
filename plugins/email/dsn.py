"""Read a delivery status notification (RFC 3464): what happened to which recipient, and why."""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass, field
from email.message import Message

from .headers import clean_line, decode_header


@dataclass(slots=True)
class DeliveryReport:
    actions: list[str] = field(default_factory=list)  # failed, delayed, delivered, relayed, expanded
    diagnostics: list[str] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        """failed, delivered or delayed ("failed" when the report says nothing readable)."""
        if not self.actions or "failed" in self.actions:
            return "failed"
        if all(a in ("delivered", "relayed", "expanded") for a in self.actions):
            return "delivered"
        return "delayed"


def read_report(raw: bytes, fallback_text: str) -> DeliveryReport:
    report = DeliveryReport()
    try:
        msg = email.message_from_bytes(raw, policy=email.policy.compat32)
        for part in msg.walk():
            if part.get_content_type() == "message/delivery-status":
                _read_status(part, report)
    except Exception:  # noqa: BLE001 - a broken report still marks the message failed
        pass
    if not report.diagnostics:
        # A bounce without a machine-readable part: its first lines say what went wrong.
        lines = [line.strip() for line in fallback_text.splitlines() if line.strip()]
        report.diagnostics.append(" ".join(lines[:6])[:500] or "the mail bounced")
    return report


def _read_status(part: Message, report: DeliveryReport) -> None:
    payload = part.get_payload()
    blocks = payload if isinstance(payload, list) else []
    for block in blocks[1:] if len(blocks) > 1 else blocks:  # the first block is per-message
        if not isinstance(block, Message):
            continue
        action = clean_line(str(block.get("action", ""))).lower()
        if action:
            report.actions.append(action)
        recipient = clean_line(decode_header(str(block.get("final-recipient", "")))).split(";")[-1].strip()
        status = clean_line(str(block.get("status", "")))
        diagnostic = clean_line(decode_header(str(block.get("diagnostic-code", "")))).split(";", 1)[-1].strip()
        if action == "failed" or not action:
            words = [w for w in (recipient, status, diagnostic) if w]
            if words:
                report.diagnostics.append(": ".join(words)[:500])
