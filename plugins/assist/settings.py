"""Settings of the assist plugin: `[plugins.assist]` in plugins.toml (docs/plugins/assist.md)."""

from __future__ import annotations

import msgspec

MODES = ("send", "draft", "off")


class AssistSettings(msgspec.Struct, forbid_unknown_fields=True):
    """`wismo_answer` maps a channel type ("email", "shopify", "whatsapp"...) to what happens when a
    customer asks where their order is and the order has tracking: "send" the answer, leave it as a
    ready "draft" for an agent, or "off". Channel types not named use `wismo_answer_default`."""

    classify: bool = True  # fill intent and sentiment on every inbound message
    wismo_threshold: float = 0.7  # the intent's probability below which nothing is answered
    wismo_answer_default: str = "draft"
    wismo_answer: dict[str, str] = {}
    model_path: str | None = None  # a model trained with `relaydesk assist train --out`; default: the shipped one
    # Priorities classify gives, so routing can act on them: "low" sends "where is my order" to a
    # team's claim pool (pool_priorities) while assist answers it; "high" puts angry customers first.
    wismo_priority: str | None = None
    angry_priority: str | None = None

    def __post_init__(self) -> None:
        if not 0.0 < self.wismo_threshold <= 1.0:
            raise ValueError(f"wismo_threshold must be in (0, 1], not {self.wismo_threshold!r}")
        for key in ("wismo_priority", "angry_priority"):
            if getattr(self, key) not in (None, "urgent", "high", "normal", "low"):
                raise ValueError(f"{key} must be one of urgent, high, normal, low, not {getattr(self, key)!r}")
        for key, mode in {"wismo_answer_default": self.wismo_answer_default,
                          **{f"wismo_answer.{k}": v for k, v in self.wismo_answer.items()}}.items():
            if mode not in MODES:
                raise ValueError(f"{key} must be one of {', '.join(MODES)}, not {mode!r}")

    def wismo_mode(self, channel_type: str | None) -> str:
        return self.wismo_answer.get(channel_type or "", self.wismo_answer_default)
