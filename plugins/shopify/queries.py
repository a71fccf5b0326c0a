"""The GraphQL documents the plugin sends (Admin API, see docs/plugins/shopify.md for versions)."""

ORDER_FIELDS = """
  id legacyResourceId name email phone createdAt updatedAt cancelledAt cancelReason closedAt
  displayFinancialStatus displayFulfillmentStatus note tags paymentGatewayNames statusPageUrl
  currentTotalPriceSet { shopMoney { amount currencyCode } }
  subtotalPriceSet { shopMoney { amount currencyCode } }
  totalRefundedSet { shopMoney { amount currencyCode } }
  customer { id legacyResourceId email phone firstName lastName verifiedEmail }
  lineItems(first: 50) { nodes { id title variantTitle sku quantity
    originalUnitPriceSet { shopMoney { amount currencyCode } } } }
  fulfillments(first: 20) { id legacyResourceId status displayStatus createdAt updatedAt estimatedDeliveryAt
    trackingInfo { company number url } }
  refunds(first: 20) { id legacyResourceId createdAt note totalRefundedSet { shopMoney { amount currencyCode } } }
"""

ORDERS_PAGE = """
query RelaydeskOrders($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    nodes { %s }
    pageInfo { hasNextPage endCursor }
  }
}
""" % ORDER_FIELDS

ORDERS_COUNT = """
query RelaydeskOrdersCount($query: String) {
  ordersCount(query: $query) { count precision }
}
"""

ORDER = """
query RelaydeskOrder($id: ID!) {
  order(id: $id) { %s }
}
""" % ORDER_FIELDS

ORDER_TRANSACTIONS = """
query RelaydeskOrderTransactions($id: ID!) {
  order(id: $id) { id transactions(first: 20) { id kind status gateway
    amountSet { shopMoney { amount currencyCode } } } }
}
"""

WEBHOOK_SUBSCRIPTIONS = """
query RelaydeskWebhookSubscriptions($callbackUrl: URL) {
  webhookSubscriptions(first: 100, callbackUrl: $callbackUrl) {
    nodes { id topic }
  }
}
"""

WEBHOOK_SUBSCRIPTION_CREATE = """
mutation RelaydeskWebhookSubscriptionCreate($topic: WebhookSubscriptionTopic!, $webhookSubscription: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription) {
    webhookSubscription { id topic }
    userErrors { field message }
  }
}
"""

ORDER_CANCEL = """
mutation RelaydeskOrderCancel($orderId: ID!, $reason: OrderCancelReason!, $refund: Boolean!, $restock: Boolean!, $notifyCustomer: Boolean, $staffNote: String) {
  orderCancel(orderId: $orderId, reason: $reason, refund: $refund, restock: $restock, notifyCustomer: $notifyCustomer, staffNote: $staffNote) {
    job { id done }
    orderCancelUserErrors { field message code }
    userErrors { field message }
  }
}
"""

REFUND_CREATE = """
mutation RelaydeskRefundCreate($input: RefundInput!) {
  refundCreate(input: $input) {
    refund { id legacyResourceId createdAt note totalRefundedSet { shopMoney { amount currencyCode } } }
    userErrors { field message }
  }
}
"""

ORDER_UPDATE = """
mutation RelaydeskOrderUpdate($input: OrderInput!) {
  orderUpdate(input: $input) {
    order { id note }
    userErrors { field message }
  }
}
"""

TAGS_ADD = """
mutation RelaydeskTagsAdd($id: ID!, $tags: [String!]!) {
  tagsAdd(id: $id, tags: $tags) {
    node { id }
    userErrors { field message }
  }
}
"""

# The webhook topics `relaydesk shopify subscribe` creates. The mandatory privacy topics
# (customers/data_request, customers/redact, shop/redact) are set in the app's configuration, not here.
SUBSCRIBED_TOPICS = (
    "ORDERS_CREATE", "ORDERS_UPDATED", "ORDERS_CANCELLED", "ORDERS_FULFILLED", "ORDERS_PAID",
    "FULFILLMENTS_CREATE", "FULFILLMENTS_UPDATE", "REFUNDS_CREATE", "CUSTOMERS_CREATE", "CUSTOMERS_UPDATE",
)

# Order.suggestedRefund (Admin GraphQL, SuggestedRefund object): what Shopify would refund for the
# chosen lines (and shipping) before anything is refunded; the panel shows its amount to confirm.
SUGGESTED_REFUND = """
query RelaydeskSuggestedRefund($id: ID!, $refundLineItems: [RefundLineItemInput!], $refundShipping: Boolean) {
  order(id: $id) {
    id name
    totalRefundedSet { shopMoney { amount currencyCode } }
    suggestedRefund(refundLineItems: $refundLineItems, refundShipping: $refundShipping) {
      amountSet { shopMoney { amount currencyCode } }
      subtotalSet { shopMoney { amount currencyCode } }
      totalTaxSet { shopMoney { amount currencyCode } }
      maximumRefundableSet { shopMoney { amount currencyCode } }
      shipping { amountSet { shopMoney { amount currencyCode } } }
      refundLineItems { quantity lineItem { id title } }
      suggestedTransactions { gateway kind amountSet { shopMoney { amount currencyCode } } }
    }
  }
}
"""
