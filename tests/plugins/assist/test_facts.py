"""Which order a "where is my order" message is about, and which facts may be said."""

from __future__ import annotations

from datetime import date

from plugins.assist.facts import pick_order, shipping_facts

TODAY = date(2026, 12, 2)


def order(name, status="shipped", shipment_status="in_transit", number="1Z1", owned=True, mentioned=False, **kw):
    fulfillments = [{"status": "success", "shipment_status": shipment_status, "created_at": "2026-11-30T08:00:00Z",
                     "estimated_delivery_at": kw.pop("eta", None),
                     "tracking": [{"company": "UPS", "number": number, "url": None}] if number else []}]
    return {"name": name, "order_id": name.lstrip("#"), "status": status, "customer_match": owned,
            "mentioned": mentioned, "fulfillments": fulfillments, **kw}


def test_the_named_order_wins_and_two_in_flight_are_unclear():
    a, b = order("#1001"), order("#1009", status="paid", number=None)
    assert pick_order([a, b]) is None  # two orders in flight, none named: unclear
    assert pick_order([a, b], "Where is order #1001?") is a
    assert pick_order([a, b], "where is 1009") is b
    assert pick_order([a, b], "order 21001 and 10010") is None  # digits must stand alone
    assert pick_order([a, order("#1002", status="delivered")]) is a  # the only one in flight
    assert pick_order([order("#1003", owned=False, mentioned=True)]) is None  # someone else's order


def test_facts_only_from_what_the_order_says():
    facts = shipping_facts([order("#1001", eta="2026-12-04T12:00:00Z")], TODAY)
    assert facts.order == "#1001" and facts.status == "in_transit" and facts.eta == date(2026, 12, 4)
    assert facts.shipped_on == date(2026, 11, 30) and [p.number for p in facts.parcels] == ["1Z1"]
    assert shipping_facts([order("#1001", eta="2026-11-01T12:00:00Z")], TODAY).eta is None  # a past estimate is not repeated
    for status in ("delivered", "failure", "attempted_delivery", "something_new"):
        assert shipping_facts([order("#1001", shipment_status=status)], TODAY) is None
    assert shipping_facts([order("#1001", number=None)], TODAY) is None
    assert shipping_facts([order("#1001", status="cancelled")], TODAY) is None
    assert shipping_facts([], TODAY) is None
