"""Replies: a member conversation through the Message API's sendMessage (into the same
conversation); a return through the Post-Order API's return send_message; a case (which has no
message thread of its own) through sendMessage to the buyer, referencing the item."""

from __future__ import annotations

from typing import Any

from core.errors import ChannelError
from core.types import Account, OutboundMessage, SendResult
from plugins.ebay import state
from plugins.ebay.tables import EbayDispute

MAX_TEXT = 2000  # eBay member messages: plain text, at most 2000 characters


async def send(account: Account, message: OutboundMessage) -> SendResult:
    client = state.client_for(account)
    text = (message.text or "").strip()
    if not text:
        raise ChannelError("an eBay message needs text", retryable=False, platform_code="empty")
    if len(text) > MAX_TEXT:
        raise ChannelError(f"eBay messages are at most {MAX_TEXT} characters; this one has {len(text)}",
                           retryable=False, platform_code="too_long")
    if message.attachments:
        raise ChannelError("attachments are not sent to eBay yet; send the text alone", retryable=False,
                           platform_code="attachments")
    key = message.thread_key or ""
    kind, _, ident = key.partition(":")
    if kind == "conv" and ident:
        body: dict[str, Any] = {"conversationId": ident, "messageText": text}
        return await _send_message(client, body, message)
    if kind == "return" and ident:
        await client.request("POST", f"/post-order/v2/return/{ident}/send_message",
                             json={"message": {"content": text}}, auth="iaf", what="send a return message")
        # The Post-Order API answers without a message id: the desk's own id keeps it unique.
        return SendResult(external_id=f"return-msg:{ident}:{message.idempotency_key}")
    if kind == "case" and ident:
        row = await EbayDispute.select(EbayDispute.item_id).where(
            (EbayDispute.account == account.id) & (EbayDispute.thread_key == key)).first()
        body = {"otherPartyUsername": message.recipient_handle, "messageText": text}
        if row and row["item_id"]:
            body["reference"] = {"referenceId": row["item_id"], "referenceType": "LISTING"}
        return await _send_message(client, body, message)
    body = {"otherPartyUsername": message.recipient_handle, "messageText": text}
    return await _send_message(client, body, message)


async def _send_message(client: Any, body: dict[str, Any], message: OutboundMessage) -> SendResult:
    answer = await client.request("POST", "/commerce/message/v1/send_message", json=body,
                                  what="send the message (sendMessage)") or {}
    message_id = answer.get("messageId")
    if not message_id:
        raise ChannelError("eBay accepted the message but returned no messageId", retryable=False)
    # The same id the poll reads back from getConversation: the echo dedupes against this row.
    return SendResult(external_id=f"msg:{message_id}")
