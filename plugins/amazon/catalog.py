"""The plugin's strings in the agents' languages (English and Simplified Chinese, the inbox's two).
Kept with the plugin, like the CSAT plugin's catalog; a missing key falls back to English."""

from __future__ import annotations

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "draft.link": "Remove the link ({found}). Amazon blocks links that are not needed to complete the "
                      "order; tell the buyer where to find it in their Amazon account instead.",
        "draft.email_address": "Remove the email address ({found}). Buyers may be contacted only through "
                               "Amazon's messaging, and the relay strips addresses.",
        "draft.phone": "Remove the phone number ({found}). Personal contact details are not allowed in "
                       "messages to Amazon buyers.",
        "draft.html": "Write plain text: remove the markup ({found}). Images and HTML, tracking pixels "
                      "included, are not allowed.",
        "draft.quoted_history": "Remove the quoted earlier messages ({found}). Amazon keeps the history "
                                "itself; quoting it grows every mail and repeats our markers.",
        "draft.tracking_marker": "Remove the tracking marker ({found}). Ticket numbers and mail tracking "
                                 "codes must not reach Amazon buyers.",
        "draft.feedback": "Rephrase or remove this ({found}). Amazon forbids asking for positive feedback or "
                          "reviews, offering anything for them, or asking to change or remove them; a neutral "
                          "request is allowed.",
        "panel.title": "Amazon",
        "panel.conversation": "Amazon conversation on {marketplace}",
        "panel.buyer": "Buyer (relay address)",
        "panel.product": "Product",
        "panel.order": "Order",
        "panel.placed": "Placed",
        "panel.total": "Total",
        "panel.ship_by": "Ship by",
        "panel.deliver_by": "Deliver by",
        "panel.not_cached": "Not in the order cache yet (it arrives with the next orders poll).",
        "panel.other_customer": "Named in this ticket; it belongs to another customer record.",
        "panel.reply_rules": "Replies go out as plain text from {address}, without links, contact details, "
                             "quoted history or feedback requests.",
        "messaging.not_allowed": "Amazon does not allow the message {action!r} for order {order} now; "
                                 "allowed: {allowed}.",
        "messaging.sent": "Amazon accepted the message {action!r} for order {order}.",
    },
    "zh": {
        "draft.link": "删除链接（{found}）。亚马逊会拦截完成订单所不需要的链接；请告诉买家在其亚马逊账户中哪里可以找到。",
        "draft.email_address": "删除邮箱地址（{found}）。只能通过亚马逊消息联系买家，中转服务也会删除地址。",
        "draft.phone": "删除电话号码（{found}）。发给亚马逊买家的消息中不允许包含个人联系方式。",
        "draft.html": "请使用纯文本：删除标记（{found}）。不允许使用图片和 HTML，包括跟踪像素。",
        "draft.quoted_history": "删除引用的历史消息（{found}）。亚马逊自己保存对话历史；引用会让邮件越来越长并重复我们的标记。",
        "draft.tracking_marker": "删除跟踪标记（{found}）。工单号和邮件跟踪代码不能发送给亚马逊买家。",
        "draft.feedback": "请改写或删除这段内容（{found}）。亚马逊禁止索要好评、以任何回报换取评价，或要求修改、删除评价；可以中立地邀请评价。",
        "panel.title": "亚马逊",
        "panel.conversation": "{marketplace} 上的亚马逊会话",
        "panel.buyer": "买家（中转地址）",
        "panel.product": "商品",
        "panel.order": "订单",
        "panel.placed": "下单时间",
        "panel.total": "金额",
        "panel.ship_by": "最晚发货",
        "panel.deliver_by": "最晚送达",
        "panel.not_cached": "订单尚未缓存（下一次订单轮询时获取）。",
        "panel.other_customer": "此工单提到了该订单，但它属于另一位客户。",
        "panel.reply_rules": "回复将以纯文本从 {address} 发出，不含链接、联系方式、引用历史或评价请求。",
        "messaging.not_allowed": "亚马逊目前不允许为订单 {order} 发送消息 {action!r}；允许的消息：{allowed}。",
        "messaging.sent": "亚马逊已接受订单 {order} 的消息 {action!r}。",
    },
}


def language_of(language: str | None) -> str:
    return "zh" if (language or "").lower().startswith("zh") else "en"


def text(key: str, language: str | None = "en", **values: object) -> str:
    template = STRINGS[language_of(language)].get(key) or STRINGS["en"][key]
    return template.format(**values)


def current_language() -> str:
    """The inbox's language for this request (web.i18n), English outside a request."""
    try:
        from web.i18n import current_language as var
    except ImportError:  # the plugin without the web package
        return "en"
    return var.get()
