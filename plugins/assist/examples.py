"""Rules that put intent and sentiment to work, shipped as examples (docs/plugins/assist.md).
`relaydesk assist rules` prints them as JSON for the rules API; each is checked by
core.rules.validate in the tests and fired on both databases.

Routing does the rest without rules: a team with `skills_match` sends a ticket tagged "angry" to
the agents who list "angry" among their skills (the senior ones), and assist's `wismo_priority =
"low"` sends "where is my order" to a team's claim pool (`pool_priorities = ["low"]`) while assist
answers it (`wismo_answer`)."""

from __future__ import annotations

from typing import Any

EXAMPLES: list[dict[str, Any]] = [
    {"name": "Angry customer: first in line, supervisors told",
     "event": "created", "conditions": {"tags": ["angry"]},
     "actions": [{"priority": "high"},
                 {"notify": {"to": "supervisors", "text": "Angry customer on ticket #{{ ticket.id }}: {{ ticket.subject }}"}}]},
    {"name": "Angrier reply: one step up",
     "event": "customer_replied", "conditions": {"tags": ["angry"], "sentiment": ["negative"]},
     "actions": [{"priority": "raise"}]},
    {"name": "Where is my order: tagged for the claim pool",
     "event": "created", "conditions": {"intent": ["wismo"]},
     "actions": [{"tag": "wismo"}]},
    {"name": "Refund request above 200: a supervisor decides",
     "event": "created",
     "conditions": {"intent": ["return_refund"], "fields": [{"field": "shopify.order_value", "gte": 200}]},
     "actions": [{"tag": "refund-review"},
                 {"notify": {"to": "supervisors",
                             "text": "Refund request on order {{ shopify.order_number }} ({{ shopify.order_value }}), ticket #{{ ticket.id }}"}}]},
    {"name": "Delayed parcel: tell the customer before they ask",
     "event": "shopify.no_tracking_update", "conditions": {},
     "actions": [{"message_customer": {
         "subject": "Your order {{ event.data.order_name }}",
         "text": "Hello, your order {{ event.data.order_name }} has had no tracking update for {{ event.data.days }} days. "
                 "We are checking with the carrier and will write again.{% if event.data.tracking_url %} "
                 "Tracking: {{ event.data.tracking_url }}{% endif %}"}},
                 {"tag": "delayed"}]},
]
