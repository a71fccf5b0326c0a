"""Polling one seller account: orders into the cache, member messages and returns/cases into
normalized inbound messages.

The poll cursor is JSON: ``{"orders": <lastModifiedDate>, "messages": <createdDate>}``. The core
saves it only after the batch is stored, and ingest dedupes on the external ids, so a crash mid-poll
fetches the same things again and changes nothing.

Threading: a member conversation is thread ``conv:<conversationId>``, linked to its listing (the
conversation's LISTING reference) and to the buyer's order of that item from the cache. A return is
thread ``return:<returnId>``; a case escalated from a return (same item and transaction) threads onto
the return's ticket, any other case is ``case:<caseId>``. Each state a return or case reaches is one
message whose id is derived from what eBay says (status, state, deadline), so a change makes a new
message and a repeat is a duplicate. The seller's respond-by date rides on the message as
``respond_by``: the core makes it the ticket's SLA due time.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from core.plugin_api import clock
from core.plugin_api import ChannelError
from core.plugin_api import Account, InboundMessage
from plugins.ebay import state
from plugins.ebay.catalog import _
from plugins.ebay.client import EbayClient
from plugins.ebay.tables import EbayConversation, EbayDispute, EbayOrder

log = logging.getLogger("relaydesk.ebay")

CLOSED_RETURN_STATES = {"CLOSED", "REPLACEMENT_CLOSED"}
CLOSED_CASE_STATUSES = {"CLOSED", "CS_CLOSED"}
# What a seller can do on a case through the Post-Order API, by the case's status.
CASE_ACTIONS = {
    "OPEN": ["ISSUE_REFUND", "PROVIDE_RETURN_ADDRESS"],
    "ON_HOLD": ["ISSUE_REFUND"],
    "WAITING_CS": ["ISSUE_REFUND"],
    "WAITING_DELIVERY": ["ISSUE_REFUND"],
    "REFUND_AGREED_BUT_FAILED": ["ISSUE_REFUND"],
    "CLOSED": ["APPEAL"],
    "CS_CLOSED": ["APPEAL"],
}
DISPUTE_WINDOW_DAYS = 90
OVERLAP = timedelta(minutes=5)


def load_cursor(cursor: str | None) -> dict[str, Any]:
    if not cursor:
        return {}
    try:
        value = json.loads(cursor)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


async def poll(account: Account, cursor: str | None) -> tuple[list[InboundMessage], str]:
    settings = account.settings
    client = state.client_for(account)
    data = load_cursor(cursor)
    start = clock.now() - timedelta(days=settings.initial_lookback_days)
    messages: list[InboundMessage] = []
    errors: list[ChannelError] = []
    succeeded = 0
    # Orders first: messages and disputes thread to the orders they find in the cache.
    steps = [("orders", settings.poll_orders, sync_orders), ("messages", settings.poll_messages, sync_messages),
             ("returns", settings.poll_returns, sync_returns), ("cases", settings.poll_cases, sync_cases)]
    for name, enabled, step in steps:
        if not enabled:
            continue
        try:
            found, mark = await step(account, client, state.parse_time(data.get(name)) or start)
        except ChannelError as exc:
            log.warning("eBay %s/%s: %s failed: %s", account.name, name, name, exc.message)
            errors.append(exc)
            continue
        succeeded += 1
        messages.extend(found)
        if mark is not None:
            data[name] = state.iso(mark)
    if errors and not succeeded:
        raise errors[0]
    return messages, json.dumps(data, sort_keys=True)


# --- orders (Sell Fulfillment API getOrders) ---------------------------------------------------


def _money(amount: Any) -> tuple[Decimal, str]:
    amount = amount or {}
    try:
        return Decimal(str(amount.get("value") or "0")).quantize(Decimal("0.01")), str(amount.get("currency") or "")
    except (InvalidOperation, AttributeError):
        return Decimal("0"), ""


def normalize_order(order: dict[str, Any]) -> dict[str, Any]:
    total, currency = _money((order.get("pricingSummary") or {}).get("total"))
    items = []
    for line in order.get("lineItems") or []:
        price, line_currency = _money(line.get("lineItemCost") or line.get("total"))
        items.append({"line_item_id": line.get("lineItemId"), "item_id": str(line.get("legacyItemId") or ""),
                      "title": line.get("title") or "", "sku": line.get("sku"), "quantity": line.get("quantity") or 0,
                      "price": str(price), "currency": line_currency or currency,
                      "fulfillment_status": line.get("lineItemFulfillmentStatus")})
    return {
        "order_id": order.get("orderId"), "legacy_order_id": order.get("legacyOrderId"),
        "buyer": (order.get("buyer") or {}).get("username") or "",
        "created_at": order.get("creationDate"), "updated_at": order.get("lastModifiedDate"),
        "fulfillment_status": order.get("orderFulfillmentStatus") or "",
        "payment_status": order.get("orderPaymentStatus") or "",
        "cancel_state": (order.get("cancelStatus") or {}).get("cancelState"),
        "total": str(total), "currency": currency, "items": items,
        "sales_record": order.get("salesRecordReference"),
    }


async def upsert_order(account: Account, order: dict[str, Any]) -> str | None:
    normal = normalize_order(order)
    order_id = normal["order_id"]
    if not order_id:
        return None
    values = {
        EbayOrder.legacy_order_id: normal["legacy_order_id"], EbayOrder.buyer_username: normal["buyer"],
        EbayOrder.fulfillment_status: normal["fulfillment_status"], EbayOrder.payment_status: normal["payment_status"],
        EbayOrder.total: Decimal(normal["total"]), EbayOrder.currency: normal["currency"],
        EbayOrder.item_ids: sorted({i["item_id"] for i in normal["items"] if i["item_id"]}),
        EbayOrder.data: normal, EbayOrder.placed_at: state.parse_time(normal["created_at"]),
        EbayOrder.ebay_updated_at: state.parse_time(normal["updated_at"]), EbayOrder.cached_at: clock.now(),
    }
    existing = await EbayOrder.select(EbayOrder.id, EbayOrder.ebay_updated_at).where(
        (EbayOrder.account == account.id) & (EbayOrder.order_id == order_id)).first()
    if existing is None:
        await EbayOrder.insert(EbayOrder(account=account.id, order_id=order_id,
                                         **{c._meta.name: v for c, v in values.items()}))
    elif existing["ebay_updated_at"] is None or values[EbayOrder.ebay_updated_at] is None \
            or values[EbayOrder.ebay_updated_at] >= existing["ebay_updated_at"]:
        await EbayOrder.update(values).where(EbayOrder.id == existing["id"])
    return order_id


async def sync_orders(account: Account, client: EbayClient, since: Any) -> tuple[list[InboundMessage], Any]:
    limit = account.settings.page_size
    offset = 0
    newest = None
    while True:
        page = await client.request("GET", "/sell/fulfillment/v1/order", params={
            "filter": f"lastmodifieddate:[{state.iso(since - OVERLAP)}..]", "limit": limit, "offset": offset},
            what="fetch orders (getOrders)") or {}
        orders = page.get("orders") or []
        for order in orders:
            await upsert_order(account, order)
            updated = state.parse_time(order.get("lastModifiedDate"))
            if updated and (newest is None or updated > newest):
                newest = updated
        offset += limit
        if not orders or not page.get("next") or offset >= int(page.get("total") or 0):
            break
    return [], newest


async def order_for(account: Account, buyer: str | None, item_id: str | None) -> str | None:
    """The buyer's most recent cached order that contains the item."""
    if not buyer or not item_id:
        return None
    rows = await EbayOrder.select(EbayOrder.order_id, EbayOrder.item_ids).where(
        (EbayOrder.account == account.id) & (EbayOrder.buyer_username == buyer)).order_by(
        EbayOrder.placed_at, ascending=False).output(load_json=True)
    for row in rows:
        if str(item_id) in [str(i) for i in row["item_ids"] or []]:
            return row["order_id"]
    return None


# --- member messages (Message API) ---------------------------------------------------------------


def _is_seller(account: Account, username: str | None) -> bool:
    return (username or "").strip().lower() == account.settings.seller_username.strip().lower()


_TEXT_FIELDS = ("messageBody", "createdDate", "senderUsername", "senderUserName", "recipientUsername",
                "recipientUserName", "subject")


def _well_formed(m: Any) -> bool:
    """A message of getConversation's documented shape. A malformed one is skipped (and logged) so the
    rest of the conversation is still stored, instead of failing the whole poll on every attempt."""
    ok = (isinstance(m, dict) and isinstance(m.get("messageId"), (str, int)) and not isinstance(m.get("messageId"), bool)
          and all(m.get(k) is None or isinstance(m.get(k), str) for k in _TEXT_FIELDS)
          and isinstance(m.get("messageMedia") or [], list))
    if not ok:
        log.warning("eBay: skipped a malformed message: %.200r", m)
    return ok


async def sync_messages(account: Account, client: EbayClient, since: Any) -> tuple[list[InboundMessage], Any]:
    limit = account.settings.page_size
    offset = 0
    newest = None
    out: list[InboundMessage] = []
    while True:
        page = await client.request("GET", "/commerce/message/v1/conversation", params={
            "conversation_type": "FROM_MEMBERS", "start_time": state.iso(since - OVERLAP), "limit": limit,
            "offset": offset}, what="fetch conversations (getConversations)") or {}
        conversations = page.get("conversations") or []
        for conversation in conversations:
            out.extend(await _conversation(account, client, conversation, since - OVERLAP))
            latest_message = conversation.get("latestMessage")
            latest = (state.parse_time(latest_message.get("createdDate"))
                      if latest_message is not None and _well_formed(latest_message) else None)
            if latest and (newest is None or latest > newest):
                newest = latest
        offset += limit
        if not conversations or not page.get("next") or offset >= int(page.get("total") or 0):
            break
    return out, newest


async def _conversation(account: Account, client: EbayClient, conversation: dict[str, Any],
                        since: Any) -> list[InboundMessage]:
    conversation_id = str(conversation.get("conversationId") or "")
    if not conversation_id:
        return []
    messages: list[dict[str, Any]] = []
    limit = account.settings.page_size
    offset = 0
    while True:
        page = await client.request("GET", f"/commerce/message/v1/conversation/{conversation_id}", params={
            "conversation_type": "FROM_MEMBERS", "limit": limit, "offset": offset},
            what="fetch a conversation (getConversation)") or {}
        batch = page.get("messages") or []
        messages += [m for m in batch if _well_formed(m)]
        offset += limit
        if not batch or not page.get("next") or offset >= int(page.get("total") or 0):
            break
    buyer = None
    latest_message = conversation.get("latestMessage")
    for m in messages + ([latest_message] if isinstance(latest_message, dict) and _well_formed(latest_message) else []):
        for name in (m.get("senderUsername") or m.get("senderUserName"), m.get("recipientUsername") or m.get("recipientUserName")):
            if name and not _is_seller(account, name):
                buyer = buyer or name
    item_id = str(conversation["referenceId"]) if conversation.get("referenceType") == "LISTING" and conversation.get("referenceId") else None
    order_id = await order_for(account, buyer, item_id)
    thread_key = f"conv:{conversation_id}"
    await _link_conversation(account, conversation_id, thread_key, buyer, item_id, order_id,
                             conversation.get("conversationTitle") or "")
    out = []
    for m in sorted(messages, key=lambda m: m.get("createdDate") or ""):
        created = state.parse_time(m.get("createdDate"))
        if created is not None and created < since:
            continue
        sender = m.get("senderUsername") or m.get("senderUserName") or ""
        echo = _is_seller(account, sender)
        if not buyer or not m.get("messageId"):
            continue
        out.append(InboundMessage(
            external_id=f"msg:{m['messageId']}", sender_handle=buyer, sender_name=buyer,
            text=(m.get("messageBody") or "")[:20000], subject=(m.get("subject") or conversation.get("conversationTitle") or None),
            thread_key=thread_key, order_ids=[order_id] if order_id else [], sent_at=created, is_echo=echo,
            reopen_closed=True,
            metadata={"ebay": {"kind": "message", "conversation_id": conversation_id, "item_id": item_id,
                               "order_id": order_id, "media": [x.get("mediaUrl") for x in m.get("messageMedia") or []
                                                               if isinstance(x, dict) and x.get("mediaUrl")]}},
        ))
    return out


async def _link_conversation(account: Account, conversation_id: str, thread_key: str, buyer: str | None,
                             item_id: str | None, order_id: str | None, title: str) -> None:
    values = {EbayConversation.buyer_username: buyer or "", EbayConversation.item_id: item_id,
              EbayConversation.order_id: order_id, EbayConversation.title: title[:500],
              EbayConversation.updated_at: clock.now()}
    row = await EbayConversation.select(EbayConversation.id).where(
        (EbayConversation.account == account.id) & (EbayConversation.conversation_id == conversation_id)).first()
    if row is None:
        await EbayConversation.insert(EbayConversation(account=account.id, conversation_id=conversation_id,
                                                       thread_key=thread_key, **{c._meta.name: v for c, v in values.items()}))
    else:
        if order_id is None:
            values.pop(EbayConversation.order_id)  # keep an order found earlier
        await EbayConversation.update(values).where(EbayConversation.id == row["id"])


# --- returns and cases (Post-Order API) ----------------------------------------------------------


def _fingerprint(*parts: Any) -> str:
    return hashlib.sha256("|".join(str(p or "") for p in parts).encode()).hexdigest()[:16]


async def _search_pages(client: EbayClient, path: str, params: dict[str, Any], key: str, limit: int,
                        what: str) -> list[dict[str, Any]]:
    """Post-Order searches page by page number (offset starts at 1) with paginationOutput.totalPages."""
    found: list[dict[str, Any]] = []
    page_number = 1
    while True:
        page = await client.request("GET", path, params={**params, "limit": limit, "offset": page_number},
                                    auth="iaf", what=what) or {}
        batch = page.get(key) or []
        found += batch
        total_pages = int((page.get("paginationOutput") or {}).get("totalPages") or 1)
        page_number += 1
        if not batch or page_number > total_pages:
            return found


async def _store_dispute(account: Account, kind: str, dispute_id: str, values: dict[str, Any]) -> dict[str, Any] | None:
    row = await EbayDispute.select().where((EbayDispute.account == account.id) & (EbayDispute.kind == kind)
                                           & (EbayDispute.dispute_id == dispute_id)).output(load_json=True).first()
    columns = {getattr(EbayDispute, k): v for k, v in values.items()}
    columns[EbayDispute.updated_at] = clock.now()
    if row is None:
        await EbayDispute.insert(EbayDispute(account=account.id, kind=kind, dispute_id=dispute_id,
                                             **{c._meta.name: v for c, v in columns.items()}))
    else:
        await EbayDispute.update(columns).where(EbayDispute.id == row["id"])
    return row


async def sync_returns(account: Account, client: EbayClient, since: Any) -> tuple[list[InboundMessage], Any]:
    window = state.iso(clock.now() - timedelta(days=DISPUTE_WINDOW_DAYS))
    members = await _search_pages(client, "/post-order/v2/return/search", {"creation_date_range_from": window},
                                  "members", account.settings.page_size, "search returns")
    out = []
    for member in members:
        message = await _return_message(account, member)
        if message is not None:
            out.append(message)
    return out, None


async def _return_message(account: Account, r: dict[str, Any]) -> InboundMessage | None:
    return_id = str(r.get("returnId") or "")
    if not return_id:
        return None
    creation = r.get("creationInfo") or {}
    item = creation.get("item") or {}
    due = r.get("sellerResponseDue") or {}
    respond_by = state.parse_time(due.get("respondByDate"))
    state_name = str(r.get("state") or "")
    status = str(r.get("status") or "")
    closed = state_name in CLOSED_RETURN_STATES or status == "CLOSED"
    if closed:
        respond_by = None
    actions = [str(o.get("actionType")) for o in r.get("sellerAvailableOptions") or [] if isinstance(o, dict) and o.get("actionType")]
    buyer = str(r.get("buyerLoginName") or "")
    order_id = str(r["orderId"]) if r.get("orderId") else await order_for(account, buyer, str(item.get("itemId") or "") or None)
    thread_key = f"return:{return_id}"
    fingerprint = _fingerprint(status, state_name, respond_by, due.get("activityDue"))
    await _store_dispute(account, "return", return_id, {
        "thread_key": thread_key, "order_id": order_id, "item_id": str(item.get("itemId") or "") or None,
        "transaction_id": str(item.get("transactionId") or "") or None, "buyer_username": buyer,
        "case_type": str(r.get("currentType") or "RETURN"), "status": status, "state": state_name,
        "respond_by": respond_by, "activity_due": due.get("activityDue"), "actions": actions,
        "fingerprint": fingerprint, "data": r})
    if not buyer:
        return None
    # The event is stored as the message's text, which every agent reads: English, as before.
    lines = [_("eBay return {id}: {status}", language="en").format(id=return_id, status=status or state_name)]
    if creation.get("reason"):
        lines.append(_("Reason", language="en") + f": {creation['reason']}")
    comments = (creation.get("comments") or {}).get("content")
    if comments:
        lines.append(_("Buyer's comments", language="en") + f": {comments}")
    if respond_by:
        lines.append(_("Respond by {when}.", language="en").format(when=state.iso(respond_by)))
    return InboundMessage(
        external_id=f"return:{return_id}:{fingerprint}", sender_handle=buyer, sender_name=buyer,
        text="\n".join(lines), subject=f"eBay return {return_id}", thread_key=thread_key,
        order_ids=[order_id] if order_id else [], respond_by=respond_by, may_open_ticket=not closed,
        reopen_closed=not closed,
        metadata={"ebay": {"kind": "return", "id": return_id, "order_id": order_id, "status": status,
                           "state": state_name, "item_id": item.get("itemId")}},
    )


async def sync_cases(account: Account, client: EbayClient, since: Any) -> tuple[list[InboundMessage], Any]:
    window = state.iso(clock.now() - timedelta(days=DISPUTE_WINDOW_DAYS))
    members = await _search_pages(client, "/post-order/v2/casemanagement/search",
                                  {"case_creation_date_range_from": window}, "members", account.settings.page_size,
                                  "search cases")
    out = []
    for member in members:
        message = await _case_message(account, client, member)
        if message is not None:
            out.append(message)
    return out, None


async def _case_message(account: Account, client: EbayClient, c: dict[str, Any]) -> InboundMessage | None:
    case_id = str(c.get("caseId") or "")
    if not case_id:
        return None
    status = str(c.get("caseStatusEnum") or "")
    respond_by = None if status in CLOSED_CASE_STATUSES else state.parse_time(c.get("respondByDate"))
    fingerprint = _fingerprint(status, respond_by, (c.get("lastModifiedDate") or {}).get("value")
                               if isinstance(c.get("lastModifiedDate"), dict) else c.get("lastModifiedDate"))
    known = await EbayDispute.select(EbayDispute.fingerprint, EbayDispute.data).where(
        (EbayDispute.account == account.id) & (EbayDispute.kind == "case") & (EbayDispute.dispute_id == case_id)
    ).output(load_json=True).first()
    detail = (known or {}).get("data", {}).get("detail") if known else None
    if known is None or known["fingerprint"] != fingerprint or detail is None:
        detail = await client.request("GET", f"/post-order/v2/casemanagement/{case_id}", auth="iaf",
                                      what="fetch a case") or {}
    buyer = str(c.get("buyer") or detail.get("buyer") or "")
    item_id = str(c.get("itemId") or detail.get("itemId") or "") or None
    transaction_id = str(c.get("transactionId") or detail.get("transactionId") or "") or None
    case_type = str(detail.get("caseType") or "")
    # A case escalated from a return goes onto the return's ticket.
    thread_key = f"case:{case_id}"
    if item_id:
        ret = await EbayDispute.select(EbayDispute.thread_key, EbayDispute.order_id).where(
            (EbayDispute.account == account.id) & (EbayDispute.kind == "return") & (EbayDispute.item_id == item_id)
            & (EbayDispute.transaction_id == transaction_id)).first()
        if ret:
            thread_key = ret["thread_key"]
    order_id = await order_for(account, buyer, item_id)
    await _store_dispute(account, "case", case_id, {
        "thread_key": thread_key, "order_id": order_id, "item_id": item_id, "transaction_id": transaction_id,
        "buyer_username": buyer, "case_type": case_type, "status": status, "state": str(detail.get("status") or status),
        "respond_by": respond_by, "activity_due": None, "actions": CASE_ACTIONS.get(status, []),
        "fingerprint": fingerprint, "data": {"summary": c, "detail": detail}})
    if not buyer:
        return None
    closed = status in CLOSED_CASE_STATUSES
    lines = [_("eBay case {id} ({type}): {status}", language="en").format(id=case_id, type=case_type or "?", status=status)]
    claim = c.get("claimAmount") or {}
    if claim.get("value"):
        lines.append(_("Claim", language="en") + f": {claim.get('value')} {claim.get('currency') or ''}".rstrip())
    if respond_by:
        lines.append(_("Respond by {when}.", language="en").format(when=state.iso(respond_by)))
    return InboundMessage(
        external_id=f"case:{case_id}:{fingerprint}", sender_handle=buyer, sender_name=buyer,
        text="\n".join(lines), subject=f"eBay case {case_id}", thread_key=thread_key,
        order_ids=[order_id] if order_id else [], respond_by=respond_by, may_open_ticket=not closed,
        reopen_closed=not closed,
        metadata={"ebay": {"kind": "case", "id": case_id, "order_id": order_id, "status": status,
                           "case_type": case_type, "item_id": item_id}},
    )
