"""Every string the kb plugin shows (Python and templates) has a Chinese translation, and the help
center speaks the page's language."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[3] / "plugins" / "kb"
METHODS = [("templates/**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}


def test_every_string_is_in_both_catalogs() -> None:
    found = {message for _, _, message, _, _ in extract_from_dir(str(ROOT), METHODS, options_map=OPTIONS)
             if isinstance(message, str)}
    assert len(found) > 60
    for locale in ("en", "zh_Hans"):
        with (ROOT / "translations" / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
            catalog = read_po(handle)
        missing = sorted(m for m in found if m not in catalog or (locale == "zh_Hans" and not catalog[m].string))
        assert not missing, f"{locale}: {missing}"
