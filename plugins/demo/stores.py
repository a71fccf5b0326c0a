"""The demo's shops: a Shopify store's orders (Admin GraphQL shape) for the demo customers, and an
Amazon seller's orders (SP-API Orders v0 shape) with the proactive messages Amazon allows for each.

Fixed data, the same on every start: `relaydesk demo` caches these orders through the plugins' own
normalizers, and the demo's loopback platforms (plugins/demo/fakes.py) answer for the same orders
when an agent refunds, cancels or messages a buyer.
"""

from __future__ import annotations

from typing import Any

SHOP = "relaydesk-demo.myshopify.com"
CURRENCY = "EUR"

# (title, variant, sku, unit price)
PRODUCTS = [("Waterproof jacket", "M / navy", "JKT-M-NAVY", "89.00"), ("Travel backpack 30 L", None, "BAG-30", "64.50"),
            ("Ceramic mug set", "4 pieces", "MUG-4", "24.90"), ("Wireless charger", None, "CHG-15W", "29.00"),
            ("Merino scarf", "grey", "SCF-GRY", "39.00"), ("Running shoes", "EU 42", "RUN-42", "119.00")]

# email -> the orders' (number, [(product index, quantity)], fulfilled?)
SHOPIFY_CUSTOMERS: dict[str, tuple[str, list[tuple[int, list[tuple[int, int]], bool]]]] = {
    "anna.schmidt@example.de": ("Anna Schmidt", [(1001, [(0, 1), (4, 1)], True), (1009, [(2, 1)], False)]),
    "john.miller@example.com": ("John Miller", [(1002, [(3, 2)], True)]),
    "lucia.garcia@example.es": ("Lucía García", [(1003, [(5, 1)], False)]),
    "marie.dubois@example.fr": ("Marie Dubois", [(1004, [(4, 2), (2, 1)], True)]),
    "xiaoming.wang@example.cn": ("王小明", [(1005, [(1, 1), (3, 1)], False)]),
    "emily.clark@example.co.uk": ("Emily Clark", [(1006, [(0, 1)], True)]),
    "marco.rossi@example.it": ("Marco Rossi", [(1007, [(5, 1), (4, 1)], True)]),
    "hanako.sato@example.jp": ("佐藤 花子", [(1008, [(2, 2)], False)]),
    "olivia.brown@example.com": ("Olivia Brown", [(1010, [(1, 1)], False)]),
    "xiaohua.chen@example.cn": ("陈晓华", [(1011, [(3, 1), (2, 1)], True)]),
    "katrin.vogel@example.de": ("Katrin Vogel", [(1012, [(2, 1), (0, 1)], True)]),
}
SHIPPING = "4.90"


def _money(amount: str) -> dict[str, Any]:
    return {"shopMoney": {"amount": amount, "currencyCode": CURRENCY}}


def order_numbers(email: str) -> list[str]:
    """The customer's Shopify order names ("#1001"), newest first; none for another email."""
    entry = SHOPIFY_CUSTOMERS.get(email.lower())
    return [f"#{number}" for number, _lines, _shipped in reversed(entry[1])] if entry else []


def shopify_orders() -> list[dict[str, Any]]:
    """Every demo order as the Admin GraphQL API returns one (the fields plugins/shopify/queries.py asks)."""
    orders = []
    for customer_id, (email, (name, placed)) in enumerate(SHOPIFY_CUSTOMERS.items(), start=801):
        first, _, last = name.partition(" ")
        for number, lines, shipped in placed:
            oid = 7000 + number
            day = f"2026-11-{10 + number % 18:02d}"
            subtotal = sum(float(PRODUCTS[p][3]) * q for p, q in lines)
            total = f"{subtotal + float(SHIPPING):.2f}"
            nodes = [{"id": f"gid://shopify/LineItem/{oid}{i}", "title": PRODUCTS[p][0], "variantTitle": PRODUCTS[p][1],
                      "sku": PRODUCTS[p][2], "quantity": q, "originalUnitPriceSet": _money(PRODUCTS[p][3])}
                     for i, (p, q) in enumerate(lines, start=1)]
            fulfillments = [{"id": f"gid://shopify/Fulfillment/{oid}", "legacyResourceId": str(oid), "status": "SUCCESS",
                             "displayStatus": "IN_TRANSIT", "createdAt": f"{day}T15:00:00Z", "updatedAt": f"{day}T15:00:00Z",
                             "estimatedDeliveryAt": None,
                             "trackingInfo": [{"company": "DHL", "number": f"00340434{oid}", "url": None}]}] if shipped else []
            orders.append({
                "id": f"gid://shopify/Order/{oid}", "legacyResourceId": str(oid), "name": f"#{number}", "email": email,
                "phone": None, "createdAt": f"{day}T09:30:00Z", "updatedAt": f"{day}T15:00:00Z", "cancelledAt": None,
                "cancelReason": None, "closedAt": None, "displayFinancialStatus": "PAID",
                "displayFulfillmentStatus": "FULFILLED" if shipped else "UNFULFILLED", "note": None, "tags": [],
                "paymentGatewayNames": ["shopify_payments"], "statusPageUrl": None,
                "currentTotalPriceSet": _money(total), "subtotalPriceSet": _money(f"{subtotal:.2f}"),
                "totalRefundedSet": _money("0.00"),
                "customer": {"id": f"gid://shopify/Customer/{customer_id}", "legacyResourceId": str(customer_id),
                             "email": email, "phone": None, "firstName": first, "lastName": last or None,
                             "verifiedEmail": True},
                "lineItems": {"nodes": nodes}, "fulfillments": fulfillments, "refunds": [],
                "shippingAmount": SHIPPING,  # the demo platform's own bookkeeping, not an API field
                "transactions": [{"id": f"gid://shopify/OrderTransaction/{oid}", "kind": "SALE", "status": "SUCCESS",
                                  "gateway": "shopify_payments", "amountSet": _money(total)}],
            })
    return orders


# Amazon buyers who write through Amazon's relay (their mail arrives on the demo channel here).
AMAZON_MARKETPLACE = ("amazon.de", "A1PA6795UKMFR9")
AMAZON_BUYERS = [
    {"relay": "k3x9q2m7v5tz1@marketplace.amazon.de", "name": "Jana", "order": "302-4417720-5309481",
     "asin": "B0DEMO0001", "title": "Aluminium laptop stand, adjustable", "price": "34.99", "status": "Shipped",
     "actions": ["confirmDeliveryDetails", "unexpectedProblem", "negativeFeedbackRemoval", "legalDisclosure"],
     "subject": "Anfrage von Amazon-Kunde Jana (Bestellung: 302-4417720-5309481)",
     "text": "Hallo, der Laptopständer sollte gestern ankommen, die Sendungsverfolgung zeigt aber nichts Neues. "
             "Können Sie nachsehen?"},
    {"relay": "p8w2r6n4c1xq9@marketplace.amazon.de", "name": "Tobias", "order": "028-9931245-7710263",
     "asin": "B0DEMO0002", "title": "USB-C docking station, 9 ports", "price": "79.00", "status": "Unshipped",
     "actions": ["confirmOrderDetails", "unexpectedProblem"],
     "subject": "Anfrage von Amazon-Kunde Tobias (Bestellung: 028-9931245-7710263)",
     "text": "Guten Tag, funktioniert die Dockingstation auch mit einem MacBook Air M2? Sonst würde ich gern stornieren."},
]


def amazon_relay_text(buyer: dict[str, Any]) -> str:
    """A buyer's message wrapped the way Amazon's relay wraps it (header, markers, footer)."""
    return (f"Bestellnummer: {buyer['order']}\n1 / {buyer['title']} [ASIN: {buyer['asin']}]\n\n"
            f"------------- Beginn der Nachricht -------------\n\n{buyer['text']}\n\n"
            f"------------- Ende der Nachricht -------------\n\n"
            "Zu Ihrer Information: Diese Nachricht wurde über Amazon gesendet.\n")


def amazon_orders() -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """(order, items) as getOrders and getOrderItems return them."""
    out = []
    for buyer in AMAZON_BUYERS:
        order = {
            "AmazonOrderId": buyer["order"], "PurchaseDate": "2026-11-24T08:12:00Z", "LastUpdateDate": "2026-11-26T10:00:00Z",
            "OrderStatus": buyer["status"], "FulfillmentChannel": "MFN", "MarketplaceId": AMAZON_MARKETPLACE[1],
            "LatestShipDate": "2026-11-26T23:59:59Z", "LatestDeliveryDate": "2026-12-01T23:59:59Z", "IsPrime": False,
            "OrderTotal": {"CurrencyCode": CURRENCY, "Amount": buyer["price"]},
            "BuyerInfo": {"BuyerEmail": buyer["relay"], "BuyerName": buyer["name"]},
            "ShippingAddress": {"City": "Berlin", "CountryCode": "DE"},
        }
        items = [{"ASIN": buyer["asin"], "OrderItemId": buyer["order"].replace("-", "")[:14], "SellerSKU": buyer["asin"],
                  "Title": buyer["title"], "QuantityOrdered": 1, "ItemPrice": {"CurrencyCode": CURRENCY, "Amount": buyer["price"]}}]
        out.append((order, items))
    return out


def amazon_actions() -> dict[str, list[str]]:
    return {buyer["order"]: list(buyer["actions"]) for buyer in AMAZON_BUYERS}
