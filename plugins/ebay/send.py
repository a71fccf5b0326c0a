"""Replies: a member conversation through the Message API's sendMessage (into the same
conversation); a return through the Post-Order API's return send_message; a case (which has no
message thread of its own) through sendMessage to the buyer, referencing the item.

sendMessage takes no idempotency key, so an answer lost after eBay took the message would make the
retry a second copy for the buyer. From the second attempt on, the conversation is read first: our
own message with the same text that the desk does not know yet is the earlier attempt's copy."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from core.plugin_api import clock
from core.plugin_api import ChannelError
from core.plugin_api import Message
from core.plugin_api import Account, OutboundMessage, SendResult
from plugins.ebay import state
from plugins.ebay.tables import EbayDispute

MAX_TEXT = 2000  # eBay member messages: plain text, at most 2000 characters
RECENT = timedelta(days=1)  # how far back an earlier attempt's new conversation is looked for


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
        return await _send_message(client, body, message, account)
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
        return await _send_message(client, body, message, account)
    body = {"otherPartyUsername": message.recipient_handle, "messageText": text}
    return await _send_message(client, body, message, account)


async def _send_message(client: Any, body: dict[str, Any], message: OutboundMessage,
                        account: Account) -> SendResult:
    if message.attempt > 1:
        earlier = await _earlier_copy(client, body, account)
        if earlier is not None:
            return SendResult(external_id=earlier)
    answer = await client.request("POST", "/commerce/message/v1/send_message", json=body,
                                  what="send the message (sendMessage)") or {}
    message_id = answer.get("messageId")
    if not message_id:
        raise ChannelError("eBay accepted the message but returned no messageId", retryable=False)
    # The same id the poll reads back from getConversation: the echo dedupes against this row.
    return SendResult(external_id=f"msg:{message_id}")


async def _earlier_copy(client: Any, body: dict[str, Any], account: Account) -> str | None:
    """The external id of a copy of this message that an earlier attempt delivered, if eBay has one."""
    seller = account.settings.seller_username.strip().lower()
    text = body["messageText"]
    if "conversationId" in body:
        candidates = await _last_messages(client, str(body["conversationId"]))
    else:
        # A first message opens a conversation: the recent ones end with it (getConversations
        # lists each with its latest message).
        page = await client.request("GET", "/commerce/message/v1/conversation", params={
            "conversation_type": "FROM_MEMBERS", "start_time": state.iso(clock.now() - RECENT), "limit": 50},
            what="look for an earlier copy (getConversations)") or {}
        other = str(body.get("otherPartyUsername") or "").strip().lower()
        candidates = [c.get("latestMessage") or {} for c in page.get("conversations") or []]
        candidates = [m for m in candidates if _name(m, "recipient") == other]
    for m in reversed(candidates):
        if _name(m, "sender") == seller and (m.get("messageBody") or "").strip() == text and m.get("messageId"):
            external_id = f"msg:{m['messageId']}"
            known = await Message.exists().where((Message.account == account.id) & (Message.external_id == external_id))
            if not known:
                return external_id
    return None


async def _last_messages(client: Any, conversation_id: str) -> list[dict[str, Any]]:
    """The conversation's newest messages (its pages run oldest first)."""
    path = f"/commerce/message/v1/conversation/{conversation_id}"
    params = {"conversation_type": "FROM_MEMBERS", "limit": 50}
    page = await client.request("GET", path, params=params, what="look for an earlier copy (getConversation)") or {}
    total = int(page.get("total") or 0)
    if total > 50:
        page = await client.request("GET", path, params={**params, "offset": total - 50},
                                    what="look for an earlier copy (getConversation)") or {}
    return list(page.get("messages") or [])


def _name(message: dict[str, Any], role: str) -> str:
    # eBay spells it senderUsername in conversations and senderUserName in sendMessage's answer.
    return str(message.get(f"{role}Username") or message.get(f"{role}UserName") or "").strip().lower()
