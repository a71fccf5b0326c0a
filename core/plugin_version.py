"""The version of the plugin surface (core.plugin_api, web.plugin_api) and the check a plugin runs
against it. Kept apart from core.plugin_api so the plugin manager can read it without importing the
whole surface (which imports the plugin manager)."""

from __future__ import annotations

from core.errors import RelaydeskError

# MAJOR.MINOR. MINOR grows when names are added; MAJOR when a name is removed or changes meaning
# (docs/plugin-api.md is the promise). A plugin that needs 1.2 runs on any 1.x from 1.2 on.
PLUGIN_API_VERSION = "1.0"


class PluginApiVersionError(RelaydeskError):
    """The installed desk offers a plugin surface this plugin cannot use."""

    code = "plugin_api_version"

    def __init__(self, needed: str, offered: str, plugin: str | None) -> None:
        self.needed, self.offered, self.plugin = needed, offered, plugin
        who = f"plugin {plugin!r}" if plugin else "this plugin"
        super().__init__(f"{who} needs Relaydesk plugin API {needed}, this desk offers {offered}")


def _parse(version: str) -> tuple[int, int]:
    try:
        major, _, minor = version.strip().partition(".")
        return int(major), int(minor or 0)
    except ValueError:
        raise ValueError(f"a plugin API version is MAJOR.MINOR, like {PLUGIN_API_VERSION!r}, not {version!r}") from None


def require_plugin_api(version: str, plugin: str | None = None) -> None:
    """Call at the top of your plugin module: `require_plugin_api("1.0", plugin="telegram")`.
    Passes when this desk's surface has the same MAJOR and at least the MINOR asked for; else raises
    PluginApiVersionError, which stops start-up with the versions and the fix."""
    needed, offered = _parse(version), _parse(PLUGIN_API_VERSION)
    if needed[0] != offered[0] or needed[1] > offered[1]:
        raise PluginApiVersionError(version, PLUGIN_API_VERSION, plugin)
