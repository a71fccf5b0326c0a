"""Sanitizing plugin panel HTML for the ticket view.

A plugin panel may carry its own actions (an order's refund button, say): forms, buttons and htmx
requests. nh3 keeps those elements, but every URL they point at (``action``, ``hx-get``,
``hx-post``) must lie under ``/inbox/plugins/<plugin>/``, the plugin's own session-guarded routes;
any other is dropped, so a plugin that forgot to escape a customer's text cannot aim a button at
another part of the desk. No event handler, ``hx-on``, ``hx-vals`` or script survives: behaviour
stays in our static JavaScript (strict CSP, docs/inbox.md).
"""

from __future__ import annotations

import re
from functools import partial

import nh3

FORM_TAGS = {"form", "input", "button", "label", "select", "option", "textarea", "fieldset", "legend",
             "details", "summary", "output", "section"}  # section: a panel's per-order block, an htmx target
HTMX = {"hx-get", "hx-post", "hx-target", "hx-swap", "hx-disabled-elt", "hx-trigger", "hx-indicator"}
FORM_ATTRIBUTES: dict[str, set[str]] = {
    "form": {"method", "action", "autocomplete"} | HTMX,
    "button": {"type", "name", "value", "disabled"} | HTMX,
    "input": {"type", "name", "value", "checked", "min", "max", "step", "required", "disabled", "maxlength",
              "placeholder", "autocomplete"},
    "select": {"name", "required", "disabled"},
    "option": {"value", "selected"},
    "textarea": {"name", "maxlength", "rows", "required", "placeholder"},
    "details": {"open"},
    "div": HTMX, "section": HTMX, "span": HTMX,
}
URL_ATTRIBUTES = {"action", "hx-get", "hx-post"}
INPUT_TYPES = {"hidden", "checkbox", "radio", "number", "text"}
# htmx targets stay near the element: "this", or a class selector reached with closest/find/next.
TARGET = re.compile(r"(this|(closest|find|next|previous) \.[A-Za-z0-9_-]+)")
SWAP = re.compile(r"(innerHTML|outerHTML|beforeend|afterbegin|beforebegin|afterend|none)")
TRIGGER = re.compile(r"(click|submit|load|change)")
SAFE_PATH = re.compile(r"/inbox/plugins/[a-z0-9_]+/[A-Za-z0-9_./-]*(\?[A-Za-z0-9_=&.-]*)?")


def _filter(plugin: str, tag: str, attribute: str, value: str) -> str | None:
    if attribute in URL_ATTRIBUTES:
        prefix = f"/inbox/plugins/{plugin}/"
        ok = value.startswith(prefix) and SAFE_PATH.fullmatch(value) and ".." not in value
        return value if ok else None
    if attribute == "method":
        return value if value.lower() in ("get", "post") else None
    if attribute == "type" and tag == "input":
        return value if value in INPUT_TYPES else None
    if attribute == "type" and tag == "button":
        return value if value in ("submit", "button") else None
    if attribute in ("hx-target", "hx-indicator", "hx-disabled-elt"):
        return value if TARGET.fullmatch(value) or (attribute == "hx-disabled-elt" and value == "find button") else None
    if attribute == "hx-swap":
        return value if SWAP.fullmatch(value) else None
    if attribute == "hx-trigger":
        return value if TRIGGER.fullmatch(value) else None
    return value


def clean_panel(html: str, plugin: str) -> str:
    """nh3's default allow-list, class attributes, and forms aimed at the plugin's own routes."""
    attributes = {tag: set(names) for tag, names in nh3.ALLOWED_ATTRIBUTES.items()}
    attributes["*"] = attributes.get("*", set()) | {"class"}
    for tag, names in FORM_ATTRIBUTES.items():
        attributes[tag] = attributes.get(tag, set()) | names
    return nh3.clean(html, tags=nh3.ALLOWED_TAGS | FORM_TAGS, attributes=attributes,
                     attribute_filter=partial(_filter, plugin),
                     url_schemes={"http", "https", "mailto", "tel"}, link_rel="noopener noreferrer nofollow")
