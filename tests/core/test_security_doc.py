"""docs/security.md stays true: the settings it lists exist, the code it points at exists, and the
operator's page lists the same security settings."""

from __future__ import annotations

import re
from pathlib import Path

from core.config import _RELAYDESK_KEYS

ROOT = Path(__file__).resolve().parents[2]


def test_security_doc_names_real_settings_and_real_code():
    text = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    settings = re.findall(r"^\| `(\w+)` \|", text, re.M)
    assert {"outbound_allowlist", "trusted_proxies", "public_url", "max_webhook_bytes"} <= set(settings)
    assert set(settings) <= set(_RELAYDESK_KEYS), set(settings) - set(_RELAYDESK_KEYS)
    paths = set(re.findall(r"`((?:core|web|tests)/[\w/]+\.py)`", text))
    assert paths and all((ROOT / p).is_file() for p in paths), [p for p in paths if not (ROOT / p).is_file()]
    assert "## Reporting a vulnerability" in text
    operating = (ROOT / "docs" / "operating.md").read_text(encoding="utf-8")
    assert all(f"| {key} |" in operating for key in ("outbound_allowlist", "trusted_proxies"))
