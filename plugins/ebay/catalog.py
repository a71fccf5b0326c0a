"""The plugin's agent-facing strings in the inbox's languages (English and Simplified Chinese).

The texts live in babel catalogs under translations/ (en and zh_Hans, LC_MESSAGES/messages.po);
``_("English text")`` gives them in the inbox's current language (``language=`` picks one
explicitly), falling back to the English msgid. See docs/writing-a-plugin.md, "Your plugin's strings".
"""

from __future__ import annotations

from pathlib import Path

from web.plugin_api import i18n

_ = i18n.translator(Path(__file__).parent / "translations")
