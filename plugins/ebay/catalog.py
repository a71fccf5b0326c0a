"""The plugin's strings in the agents' languages (English and Simplified Chinese), picked by the
inbox's current language; a missing key falls back to English."""

from __future__ import annotations

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "orders_title": "eBay orders",
        "disputes_title": "eBay returns and cases",
        "placed": "Placed",
        "total": "Total",
        "payment": "Payment",
        "fulfillment": "Fulfillment",
        "buyer": "Buyer",
        "item": "Item",
        "order": "Order",
        "status": "Status",
        "state": "State",
        "respond_by": "Respond by",
        "overdue": "overdue",
        "next_step": "eBay expects",
        "actions": "Your available actions",
        "no_actions": "No action is open to you right now.",
        "return": "Return",
        "case": "Case",
        "conversation": "Conversation about item",
        "other_customer": "Mentioned in this ticket; it belongs to another customer record.",
        "resolution_center": "Open in eBay",
        "return_event": "eBay return {id}: {status}",
        "case_event": "eBay case {id} ({type}): {status}",
        "reason": "Reason",
        "comments": "Buyer's comments",
        "deadline_line": "Respond by {when}.",
        "claim": "Claim",
    },
    "zh": {
        "orders_title": "eBay 订单",
        "disputes_title": "eBay 退货与纠纷",
        "placed": "下单时间",
        "total": "总额",
        "payment": "付款",
        "fulfillment": "发货",
        "buyer": "买家",
        "item": "商品",
        "order": "订单",
        "status": "状态",
        "state": "阶段",
        "respond_by": "回复截止",
        "overdue": "已逾期",
        "next_step": "eBay 要求",
        "actions": "您可执行的操作",
        "no_actions": "目前没有可执行的操作。",
        "return": "退货",
        "case": "纠纷",
        "conversation": "关于商品的会话",
        "other_customer": "本工单提到此订单，但它属于另一位客户。",
        "resolution_center": "在 eBay 中打开",
        "return_event": "eBay 退货 {id}：{status}",
        "case_event": "eBay 纠纷 {id}（{type}）：{status}",
        "reason": "原因",
        "comments": "买家留言",
        "deadline_line": "请在 {when} 之前回复。",
        "claim": "索赔金额",
    },
}


def language() -> str:
    try:
        from web.i18n import current_language

        code = current_language.get()
    except Exception:  # the plugin also runs in workers without the web layer
        code = "en"
    return code if code in STRINGS else "en"


def t(key: str, lang: str | None = None, **values: object) -> str:
    table = STRINGS.get(lang or language(), STRINGS["en"])
    text = table.get(key) or STRINGS["en"][key]
    return text.format(**values) if values else text
