"""`relaydesk kb export DIR` and `relaydesk kb import DIR`, run as docs/plugins/kb.md gives them, on
an embedded (SQLite) desk: the demo folder goes in, comes out, and goes into a second desk."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _desk(folder: Path) -> Path:
    folder.mkdir()
    config = folder / "plugins.toml"
    config.write_text(f'[relaydesk]\ndatabase = "sqlite:///{folder / "desk.db"}"\ndata_dir = "{folder / "data"}"\n\n'
                      '[plugins]\nenabled = ["kb"]\n', encoding="utf-8")
    return config


def _relaydesk(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def test_import_then_export_a_folder(tmp_path: Path) -> None:
    first = _desk(tmp_path / "one")
    assert _relaydesk("--config", str(first), "migrate").returncode == 0
    imported = _relaydesk("--config", str(first), "kb", "import", str(ROOT / "plugins" / "kb" / "demo"))
    assert imported.returncode == 0, imported.stderr
    assert "categories: 5, articles_created: 5, texts_changed: 9" in imported.stdout
    out = tmp_path / "export"
    exported = _relaydesk("--config", str(first), "kb", "export", str(out))
    assert exported.returncode == 0, exported.stderr
    zh = (out / "customs-duties" / "zh.html").read_text(encoding="utf-8")
    assert "title: 需要支付关税吗？" in zh and "category: orders/customs" in zh and "<strong>包税</strong>" in zh
    assert "visibility: internal" in (out / "carrier-escalation" / "en.html").read_text(encoding="utf-8")

    second = _desk(tmp_path / "two")
    assert _relaydesk("--config", str(second), "migrate").returncode == 0
    again = _relaydesk("--config", str(second), "kb", "import", str(out))
    assert again.returncode == 0 and "articles_created: 5, texts_changed: 9" in again.stdout
    round_trip = tmp_path / "export2"
    assert _relaydesk("--config", str(second), "kb", "export", str(round_trip)).returncode == 0
    for path in out.rglob("*.html"):
        assert (round_trip / path.relative_to(out)).read_text(encoding="utf-8") == path.read_text(encoding="utf-8")
    bad = _relaydesk("--config", str(second), "kb", "import", str(tmp_path / "missing"))
    assert bad.returncode != 0
    broken = tmp_path / "broken" / "oops"
    broken.mkdir(parents=True)
    (broken / "en.md").write_text("no front matter here", encoding="utf-8")
    refused = _relaydesk("--config", str(second), "kb", "import", str(tmp_path / "broken"))
    assert refused.returncode == 2 and "Not imported: oops/en.md: the file must open with YAML front matter" in refused.stderr
