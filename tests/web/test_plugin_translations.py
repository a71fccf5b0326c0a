"""Plugins' own babel catalogs (web.i18n.translator): the bundled commerce plugins' panels speak the
agent's language, and their Chinese catalogs are complete."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from web import i18n

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"


def _order() -> dict:
    return {"row_id": 1, "name": "#1001", "order_id": "1001", "status": "shipped", "store": "demo.myshopify.com",
            "admin_url": None, "mentioned": True, "customer_match": False, "placed_at": "2026-11-20T10:00:00Z",
            "total": "12.50", "currency": "EUR", "financial_status": "paid", "payment_gateways": ["manual"],
            "items": [], "fulfillments": [], "refunds": [], "note": "", "tags": ["vip"]}


def test_shopify_panel_in_chinese_and_english():
    from plugins.shopify.context import render_panel_html

    context = {"orders": [{**_order(), "source": "shopify"}]}
    token = i18n.current_language.set("zh")
    try:
        panel = render_panel_html(context)
    finally:
        i18n.current_language.reset(token)
    assert panel["title"] == "Shopify 订单"
    assert "本工单提到此订单，但它属于另一位客户。" in panel["html"] and "已发货" in panel["html"]
    assert "标签: vip" in panel["html"] and "status-shipped" in panel["html"]
    english = render_panel_html(context)  # outside a request: English
    assert english["title"] == "Shopify orders" and "Tags: vip" in english["html"]


def test_ebay_dispute_in_chinese_and_amazon_with_explicit_language():
    from plugins.amazon.catalog import draft_problem
    from plugins.ebay.context import render_dispute

    dispute = {"kind": "return", "id": "5000", "url": "https://www.ebay.com/rt/ReturnDetails?returnId=5000",
               "status": "OPEN", "case_type": None, "state": None, "order_id": "12-345", "respond_by": None,
               "overdue": False, "activity_due": None, "actions": []}
    token = i18n.current_language.set("zh")
    try:
        html = render_dispute(dispute)
    finally:
        i18n.current_language.reset(token)
    assert "退货" in html and "目前没有可执行的操作。" in html and "订单 12-345" in html
    assert draft_problem("phone", "+1 555", "zh").startswith("删除电话号码（+1 555）")
    assert draft_problem("phone", "+1 555", "zh_CN").startswith("删除电话号码")
    assert draft_problem("phone", "+1 555").startswith("Remove the phone number (+1 555)")


@pytest.mark.parametrize("plugin", ["ebay", "amazon", "shopify", "whatsapp"])
def test_plugin_chinese_catalog_is_complete(plugin):
    folder = PLUGINS / plugin / "translations"
    with (folder / "zh_Hans" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        zh = read_po(handle, locale="zh_Hans")
    with (folder / "en" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        en = read_po(handle, locale="en")
    ids = [m.id for m in zh if m.id]
    assert len(ids) >= 10
    for message in zh:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(s.strip() for s in strings), f"{plugin}: no Chinese for {message.id!r}"
        assert "fuzzy" not in message.flags
    assert {m.id for m in en if m.id} == set(ids)  # both languages carry the same msgids


def test_translator_falls_back_to_the_msgid(tmp_path):
    _ = i18n.translator(tmp_path)  # no catalogs at all
    token = i18n.current_language.set("zh")
    try:
        assert _("Not translated") == "Not translated"
        assert _.ngettext("{n} item", "{n} items", 2) == "{n} items"
    finally:
        i18n.current_language.reset(token)


CATALOGS = sorted(Path(__file__).resolve().parents[2].glob("**/translations/*/LC_MESSAGES/messages.po"))


@pytest.mark.parametrize("catalog", [c for c in CATALOGS if ".venv" not in c.parts and "node_modules" not in c.parts],
                         ids=lambda c: str(c.parent.parent.parent.parent.name + "/" + c.parent.parent.name))
def test_every_catalog_is_well_formed(catalog: Path):
    """A merged or hand-edited catalog must read without a problem: an entry that lost its msgstr
    line is otherwise dropped silently and its string shows untranslated."""
    with catalog.open("rb") as handle:
        read_po(handle, abort_invalid=True)
