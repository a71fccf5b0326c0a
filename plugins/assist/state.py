"""The running desk, for hooks that get no desk argument (classify, ticket_event)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from plugins.assist.settings import AssistSettings

if TYPE_CHECKING:
    from core.plugin_api import Desk
    from plugins.assist.model import Classifier

desk: "Desk | None" = None


def settings(of: "Desk | None" = None) -> AssistSettings:
    target = of or desk
    if target is not None:
        found = target.registry.plugin_settings.get("assist")
        if found is not None:
            return found
    return AssistSettings()


def model(of: "Desk | None" = None) -> "Classifier":
    from plugins.assist.model import classifier
    from plugins.assist.train import MODEL_PATH

    path = settings(of).model_path
    return classifier(Path(path) if path else MODEL_PATH)
