"""Plugin panel HTML: forms and htmx requests survive only towards the plugin's own inbox routes."""

from __future__ import annotations

from web.inbox.panel_html import clean_panel


def test_a_panel_form_keeps_its_own_routes_and_loses_everything_else():
    html = ('<section class="shopify-order"><form hx-post="/inbox/plugins/shopify/orders/1/refund/preview" '
            'hx-target="closest .order-actions" hx-swap="innerHTML" hx-disabled-elt="find button" '
            'action="/inbox/admin/macros" onsubmit="steal()" hx-vals=\'js:{a: 1}\' hx-on:click="x()">'
            '<input type="hidden" name="line" value="7"><input type="file" name="f">'
            '<button hx-post="/inbox/plugins/amazon/orders/1/messages" hx-get="/inbox/t/1/update">Go</button>'
            '<button hx-get="/inbox/plugins/shopify/../../admin">Up</button>'
            '<div hx-get="/inbox/plugins/shopify/x" hx-target="body" hx-trigger="every 1s">x</div>'
            '</form><script>alert(1)</script></section>')
    cleaned = clean_panel(html, "shopify")
    assert '<section class="shopify-order">' in cleaned
    assert 'hx-post="/inbox/plugins/shopify/orders/1/refund/preview"' in cleaned
    assert 'hx-target="closest .order-actions"' in cleaned and 'hx-disabled-elt="find button"' in cleaned
    assert '<input type="hidden" name="line" value="7">' in cleaned
    for gone in ("/inbox/admin", "onsubmit", "hx-vals", "hx-on", "/inbox/plugins/amazon", "/inbox/t/1",
                 "..", 'type="file"', "script", 'hx-target="body"', "every 1s"):
        assert gone not in cleaned, gone
