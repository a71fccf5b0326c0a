"""`relaydesk plugin new NAME`: write a separate, installable plugin package from the template in
this folder. The template is a complete channel for a chat platform with a bot API, written to the
Telegram Bot API's documented shapes (webhook updates with a secret-token header, sendMessage,
its error bodies) so that the generated tests, which use the test kit and the channel conformance
suite against a loopback fake of that API, pass as generated. `relaydesk plugin new telegram` is
the worked example of docs/writing-a-plugin.md.
"""

from __future__ import annotations

import keyword
import re
from pathlib import Path

TEMPLATE = Path(__file__).parent / "template"
NAME = re.compile(r"^[a-z][a-z0-9_]{1,30}$")


class ScaffoldError(ValueError):
    pass


def check_name(name: str) -> None:
    from core.plugins import BUNDLED_PLUGINS

    if not NAME.match(name) or keyword.iskeyword(name):
        raise ScaffoldError(f"{name!r} is not a plugin name: use 2-31 lowercase letters, digits and _, "
                            "starting with a letter (it becomes a channel type and a Python name)")
    if name in BUNDLED_PLUGINS:
        raise ScaffoldError(f"Relaydesk bundles a plugin named {name!r}; a second one would stop start-up. "
                            "Choose another name")


def render(text: str, name: str) -> str:
    label = name.replace("_", " ").title()
    return (text.replace("__package__", f"relaydesk_{name}").replace("__name__", name)
            .replace("__Label__", label).replace("__NAME__", name.upper()))


def write_plugin(name: str, target: Path) -> list[Path]:
    """Write the package for plugin `name` into `target` (which must not exist or be empty).
    Returns the files written."""
    check_name(name)
    if target.exists() and any(target.iterdir()):
        raise ScaffoldError(f"{target} exists and is not empty")
    written = []
    for source in sorted(TEMPLATE.rglob("*.tmpl")):
        relative = render(str(source.relative_to(TEMPLATE)).removesuffix(".tmpl"), name)
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(source.read_text(encoding="utf-8"), name), encoding="utf-8")
        written.append(path)
    return written
