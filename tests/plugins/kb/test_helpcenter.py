"""The public help center: pages per brand and language, search by Chinese and English words (the
ticket search's tokenizer), votes, sitemap, canonical and hreflang links, visibility rules, and the
brand's header and footer templates in the sandbox."""

from __future__ import annotations

from typing import Any, Callable

from tests.helpers import auth, client_for, make_agent
from tests.plugins.kb.conftest import kb_desk

API = "/api/v1/plugins/kb"


async def _seed(client: Any, token: str) -> dict[str, Any]:
    brand = await client.put(f"{API}/brands/acme", headers=auth(token), json={
        "name": "Acme Store", "languages": ["en", "zh"], "primary_color": "#aa3300",
        "footer_template": "<p>{{ brand.name }} · {{ language }}</p>"})
    assert brand.status_code == 200, brand.text
    await client.put(f"{API}/brands/other", headers=auth(token), json={"name": "Other", "languages": ["en"]})
    cat = (await client.post(f"{API}/categories", headers=auth(token),
                             json={"slug": "shipping", "names": {"en": "Shipping", "zh": "配送"}})).json()
    section = (await client.post(f"{API}/categories", headers=auth(token),
                                 json={"slug": "customs", "parent": cat["id"], "names": {"en": "Customs", "zh": "海关"}})).json()
    made = {}
    for slug, category, tags, visibility, brands, en, zh in [
        ("delivery", cat["id"], ["shipping"], "public", [], ("How long does delivery take?", "<p>Parcels arrive in 7 to 12 days.</p>"),
         ("配送需要多长时间？", "<p>包裹通常在7到12天内送达。</p>")),
        ("duties", section["id"], ["shipping", "customs"], "public", ["acme"], ("Import duties", "<p>Customs duties are paid by the buyer.</p>"),
         ("进口关税", "<p>关税由买家支付。</p>")),
        ("agent-only", cat["id"], ["shipping"], "internal", [], ("Carrier escalation", "<p>Call the carrier hotline about delivery.</p>"), None),
        ("other-shop", cat["id"], [], "public", ["other"], ("Other shop delivery", "<p>delivery elsewhere</p>"), None),
    ]:
        texts = {"en": {"title": en[0], "body_html": en[1], "status": "published"}}
        if zh:
            texts["zh"] = {"title": zh[0], "body_html": zh[1], "status": "published"}
        response = await client.post(f"{API}/articles", headers=auth(token), json={
            "slug": slug, "category": category, "tags": tags, "visibility": visibility, "brands": brands,
            "translations": texts})
        assert response.status_code == 201, response.text
        made[slug] = response.json()["id"]
    draft = await client.post(f"{API}/articles", headers=auth(token), json={
        "slug": "draft-one", "category": cat["id"],
        "translations": {"en": {"title": "Unreleased delivery promise", "body_html": "<p>soon</p>"}}})
    made["draft"] = draft.json()["id"]
    return made


async def test_help_center_pages_and_search(make_desk: Callable[..., Any]) -> None:
    desk = await kb_desk(make_desk)
    _, admin = await make_agent("admin")
    async with client_for(desk) as client:
        ids = await _seed(client, admin)
        home = await client.get("/help/acme/zh/")
        assert home.status_code == 200
        assert "配送" in home.text and "配送需要多长时间？" in home.text and "进口关税" in home.text
        assert '<html lang="zh-Hans">' in home.text and "Acme Store · zh" in home.text
        assert "Carrier escalation" not in home.text and "Unreleased" not in home.text
        assert "script-src" not in home.headers["content-security-policy"]  # no script allowed at all
        assert "default-src 'none'" in home.headers["content-security-policy"]
        assert home.headers["cache-control"].startswith("public")

        redirect = await client.get("/help/acme", headers={"accept-language": "zh-CN,zh;q=0.9"})
        assert redirect.status_code in (301, 302, 307) and redirect.headers["location"] == "/help/acme/zh/"

        # Chinese words find the Chinese text (bigrams and a lone character), English words the English
        for query, lang, expected in [("关税", "zh", "进口关税"), ("送达", "zh", "配送需要多长时间？"),
                                      ("税", "zh", "进口关税"), ("customs", "en", "Import duties"),
                                      ("DELIVERY", "en", "How long does delivery take?")]:
            found = await client.get(f"/help/acme/{lang}/search", params={"q": query})
            assert found.status_code == 200 and expected in found.text, query
        none = await client.get("/help/acme/en/search", params={"q": "hotline"})  # internal article's word
        assert 'data-results="0"' in none.text
        other = await client.get("/help/acme/en/search", params={"q": "elsewhere"})  # another brand's article
        assert 'data-results="0"' in other.text
        assert "Other shop delivery" in (await client.get("/help/other/en/search", params={"q": "elsewhere"})).text

        page = await client.get(f"/help/acme/en/articles/{ids['duties']}/duties")
        assert page.status_code == 200 and "Customs duties are paid by the buyer." in page.text
        assert f'<link rel="canonical" href="https://desk.example.com/help/acme/en/articles/{ids["duties"]}/duties">' in page.text
        assert f'hreflang="zh" href="https://desk.example.com/help/acme/zh/articles/{ids["duties"]}/duties"' in page.text
        assert 'hreflang="x-default"' in page.text
        assert ">Shipping</a> › <a" in page.text and ">Customs</a>" in page.text  # breadcrumbs
        assert "How long does delivery take?" in page.text  # related: same tags
        assert (await client.get(f"/help/acme/en/articles/{ids['agent-only']}")).status_code == 404
        assert (await client.get(f"/help/acme/en/articles/{ids['draft']}")).status_code == 404
        assert (await client.get(f"/help/other/en/articles/{ids['duties']}")).status_code == 404
        assert (await client.get("/help/acme/fr/")).status_code == 404
        assert (await client.get("/help/nobody/en/")).status_code == 404

        vote = await client.post(f"/help/acme/en/articles/{ids['duties']}/vote", data={"helpful": "yes"})
        assert vote.status_code == 303 and vote.headers["location"].endswith("?voted=yes")
        again = await client.post(f"/help/acme/en/articles/{ids['duties']}/vote", data={"helpful": "yes"})
        assert again.status_code == 303  # same address, same day: not counted twice
        bot = await client.post(f"/help/acme/en/articles/{ids['delivery']}/vote",
                                data={"helpful": "no", "website": "http://spam.example"})
        assert bot.status_code == 303
        bad = await client.post(f"/help/acme/en/articles/{ids['duties']}/vote", data={"helpful": "maybe"})
        assert bad.status_code == 400
        thanks = await client.get(f"/help/acme/en/articles/{ids['duties']}?voted=yes")
        assert "Thanks for your feedback!" in thanks.text
        article = (await client.get(f"{API}/articles/{ids['duties']}", headers=auth(admin))).json()
        assert (article["helpful_yes"], article["helpful_no"]) == (1, 0)
        delivery = (await client.get(f"{API}/articles/{ids['delivery']}", headers=auth(admin))).json()
        assert delivery["helpful_no"] == 0  # the honeypot vote was not counted

        sitemap = await client.get("/help/acme/sitemap.xml")
        assert sitemap.status_code == 200 and sitemap.headers["content-type"].startswith("application/xml")
        assert f"<loc>https://desk.example.com/help/acme/zh/articles/{ids['delivery']}/delivery</loc>" in sitemap.text
        assert f"/articles/{ids['agent-only']}/" not in sitemap.text

        # a write clears the cache: an unpublished text leaves the help center at once
        await client.put(f"{API}/articles/{ids['duties']}/translations/en", headers=auth(admin),
                         json={"title": "Import duties", "body_html": "<p>x</p>", "status": "draft"})
        assert (await client.get(f"/help/acme/en/articles/{ids['duties']}")).status_code == 404
        assert 'data-results="0"' in (await client.get("/help/acme/en/search", params={"q": "customs"})).text

        figures = (await client.get(f"{API}/stats", headers=auth(admin))).json()
        assert figures["totals"]["search"] >= 8 and figures["totals"]["search_empty"] >= 3
        assert figures["totals"]["vote_yes"] == 1 and figures["totals"]["view"] >= 1


async def test_deflection_figures_for_reports(make_desk: Callable[..., Any]) -> None:
    """The figures the kb adds to reports through the (optional) report_figures hook."""
    from datetime import datetime, timedelta, timezone

    from plugins.kb import stats
    from plugins.kb.plugin import report_figures

    await kb_desk(make_desk)
    for kind, count in (("search", 8), ("search_empty", 2), ("widget_search", 2), ("view", 5), ("vote_yes", 3),
                        ("vote_no", 1)):
        stats.record(kind, "acme", "en", count)
    now = datetime.now(timezone.utc)
    figures = {f["key"]: f for f in await report_figures(now - timedelta(days=1), now + timedelta(days=1))}
    assert figures["kb.searches"]["value"] == 10 and figures["kb.search_success"]["value"] == 80.0
    assert figures["kb.views"]["count"] == 5 and figures["kb.helpful"]["value"] == 75.0
    before = {f["key"]: f for f in await report_figures(now - timedelta(days=9), now - timedelta(days=8))}
    assert before["kb.searches"]["value"] == 0 and before["kb.helpful"]["value"] is None
