"""The knowledge base's REST API: articles in two languages, revisions with diff and restore,
categories, brands, import and export of a folder, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import zipfile
from typing import Any, Callable

from tests.helpers import auth, client_for, make_agent
from tests.plugins.kb.conftest import kb_desk

API = "/api/v1/plugins/kb"


async def test_revisions_diff_and_restore(make_desk: Callable[..., Any]) -> None:
    desk = await kb_desk(make_desk)
    _, boss = await make_agent("supervisor")
    _, agent = await make_agent("agent")
    async with client_for(desk) as client:
        cat = await client.post(f"{API}/categories", headers=auth(boss),
                                json={"slug": "shipping", "names": {"en": "Shipping", "zh": "配送"}})
        assert cat.status_code == 201, cat.text
        made = await client.post(f"{API}/articles", headers=auth(boss), json={
            "slug": "delivery-times", "category": cat.json()["id"], "tags": ["Shipping", "eta"],
            "translations": {
                "en": {"title": "Delivery times", "body_markdown": "Orders ship in **2 days**.", "status": "published"},
                "zh": {"title": "配送时间", "body_html": "<p>订单两天内发货。</p>", "status": "draft"}}})
        assert made.status_code == 201, made.text
        article = made.json()
        aid = article["id"]
        assert article["tags"] == ["shipping", "eta"]
        assert article["translations"]["en"]["body_html"] == "<p>Orders ship in <strong>2 days</strong>.</p>"
        assert article["translations"]["zh"]["status"] == "draft"

        refused = await client.put(f"{API}/articles/{aid}/translations/en", headers=auth(agent),
                                   json={"title": "x", "body_html": "<p>x</p>"})
        assert refused.status_code == 403

        second = await client.put(f"{API}/articles/{aid}/translations/en", headers=auth(boss), json={
            "title": "Delivery times", "body_html": "<p>Orders ship in 3 days.</p><p>Express: 1 day.</p>",
            "status": "published", "note": "slower carrier"})
        assert second.status_code == 200 and second.json()["revision"] == 2
        same = await client.put(f"{API}/articles/{aid}/translations/en", headers=auth(boss), json={
            "title": "Delivery times", "body_html": "<p>Orders ship in 3 days.</p><p>Express: 1 day.</p>",
            "status": "published"})
        assert same.json()["revision"] == 2  # nothing changed: no new revision

        history = (await client.get(f"{API}/articles/{aid}/translations/en/revisions", headers=auth(agent))).json()
        assert [r["number"] for r in history] == [2, 1]
        assert history[0]["note"] == "slower carrier" and history[0]["author"].startswith("agent:")
        diff = (await client.get(f"{API}/articles/{aid}/translations/en/diff?from=1&to=2", headers=auth(agent))).json()
        assert diff["changed"] is True
        assert "-<p>Orders ship in <strong>2 days</strong>.</p>" in diff["diff"]
        assert "+<p>Orders ship in 3 days.</p>" in diff["diff"] and "+<p>Express: 1 day.</p>" in diff["diff"]

        restored = await client.post(f"{API}/articles/{aid}/translations/en/revisions/1/restore", headers=auth(boss))
        assert restored.status_code == 200 and restored.json()["revision"] == 3
        current = (await client.get(f"{API}/articles/{aid}", headers=auth(agent))).json()
        assert "<strong>2 days</strong>" in current["translations"]["en"]["body_html"]
        third = (await client.get(f"{API}/articles/{aid}/translations/en/revisions/3", headers=auth(agent))).json()
        assert third["note"] == "restored revision 1"

        missing = await client.get(f"{API}/articles/{aid}/translations/en/revisions/9", headers=auth(agent))
        assert missing.status_code == 404
        bad_language = await client.put(f"{API}/articles/{aid}/translations/<x>", headers=auth(boss),
                                        json={"title": "x", "body_html": ""})
        assert bad_language.status_code == 400
        both = await client.put(f"{API}/articles/{aid}/translations/en", headers=auth(boss),
                                json={"title": "x", "body_html": "<p>a</p>", "body_markdown": "a"})
        assert both.status_code == 400
        schema = (await client.get("/api/v1/schema/openapi.json")).json()
        for path in ("/api/v1/plugins/kb/articles", "/api/v1/plugins/kb/articles/{article_id}/translations/{language}/diff",
                     "/api/v1/plugins/kb/import", "/api/v1/plugins/kb/export", "/api/v1/plugins/kb/brands/{key}"):
            assert path in schema["paths"], path
        listed = (await client.get(f"{API}/articles?language=zh&status=draft", headers=auth(agent))).json()
        assert [a["id"] for a in listed] == [aid]
        busy = await client.delete(f"{API}/categories/{cat.json()['id']}", headers=auth(boss))
        assert busy.status_code == 409


async def test_export_then_import_round_trip(make_desk: Callable[..., Any]) -> None:
    desk = await kb_desk(make_desk)
    _, boss = await make_agent("supervisor")
    async with client_for(desk) as client:
        cat = (await client.post(f"{API}/categories", headers=auth(boss),
                                 json={"slug": "returns", "names": {"en": "Returns", "zh": "退货"}})).json()
        section = (await client.post(f"{API}/categories", headers=auth(boss),
                                     json={"slug": "refunds", "parent": cat["id"], "names": {"en": "Refunds"}})).json()
        await client.post(f"{API}/articles", headers=auth(boss), json={
            "slug": "refund-time", "category": section["id"], "tags": ["refund"], "visibility": "internal",
            "translations": {"en": {"title": "Refund time", "body_html": "<p>5 days</p>", "status": "published"},
                             "zh": {"title": "退款时间", "body_html": "<p>5天</p>", "status": "published"}}})
        exported = await client.get(f"{API}/export", headers=auth(boss))
        assert exported.status_code == 200 and exported.headers["content-type"] == "application/zip"
        archive = zipfile.ZipFile(io.BytesIO(exported.content))
        names = sorted(archive.namelist())
        assert names == ["kb/categories.yaml", "kb/refund-time/en.html", "kb/refund-time/zh.html"]
        zh = archive.read("kb/refund-time/zh.html").decode()
        assert zh.startswith("---\n") and "title: 退款时间" in zh and "category: returns/refunds" in zh
        assert "visibility: internal" in zh and zh.rstrip().endswith("<p>5天</p>")

        # the knowledge base is emptied, then comes back from the folder (plus a hand-written Markdown file)
        article_id = (await client.get(f"{API}/articles", headers=auth(boss))).json()[0]["id"]
        assert (await client.delete(f"{API}/articles/{article_id}", headers=auth(boss))).status_code == 204
        assert (await client.delete(f"{API}/categories/{section['id']}", headers=auth(boss))).status_code == 204
        assert (await client.delete(f"{API}/categories/{cat['id']}", headers=auth(boss))).status_code == 204
    admin = boss
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as out:
        for name in names:
            out.writestr(name, archive.read(name))
        out.writestr("kb/sizes/en.md", "---\ntitle: Size guide\nstatus: published\ntags: [sizes]\n---\n"
                                       "# Sizes\n\n| EU | US |\n|---|---|\n| 38 | 7 |\n<script>alert(1)</script>\n")
    async with client_for(desk) as client:
        imported = await client.post(f"{API}/import", headers={**auth(admin), "content-type": "application/zip"},
                                     content=buffer.getvalue())
        assert imported.status_code == 200, imported.text
        assert imported.json() == {"categories": 2, "articles_created": 2, "texts_changed": 3}
        again = await client.post(f"{API}/import", headers={**auth(admin), "content-type": "application/zip"},
                                  content=buffer.getvalue())
        assert again.json()["articles_created"] == 0 and again.json()["texts_changed"] == 0
        articles = {a["slug"]: a for a in (await client.get(f"{API}/articles", headers=auth(admin))).json()}
        assert set(articles) == {"refund-time", "sizes"}
        refund = (await client.get(f"{API}/articles/{articles['refund-time']['id']}", headers=auth(admin))).json()
        assert refund["visibility"] == "internal" and refund["tags"] == ["refund"]
        assert refund["translations"]["zh"]["body_html"] == "<p>5天</p>"
        cats = (await client.get(f"{API}/categories", headers=auth(admin))).json()
        assert refund["category"] == next(c["id"] for c in cats if c["slug"] == "refunds")
        sizes = (await client.get(f"{API}/articles/{articles['sizes']['id']}", headers=auth(admin))).json()
        body = sizes["translations"]["en"]["body_html"]
        assert "<table>" in body and "<td>38</td>" in body and "<script" not in body

        broken = io.BytesIO()
        with zipfile.ZipFile(broken, "w") as out:
            out.writestr("kb/good/en.html", "---\ntitle: Good\n---\n<p>fine</p>")
            out.writestr("kb/bad/en.html", "<p>no front matter</p>")
        refused = await client.post(f"{API}/import", headers={**auth(admin), "content-type": "application/zip"},
                                    content=broken.getvalue())
        assert refused.status_code == 400 and "bad/en.html" in refused.json()["error"]["message"]
        assert "good" not in {a["slug"] for a in (await client.get(f"{API}/articles", headers=auth(admin))).json()}
        not_zip = await client.post(f"{API}/import", headers={**auth(admin), "content-type": "application/zip"},
                                    content=b"hello")
        assert not_zip.status_code == 400


async def test_image_upload_through_the_api(make_desk: Callable[..., Any]) -> None:
    from tests.plugins.kb.test_admin_pages import PNG

    desk = await kb_desk(make_desk)
    _, boss = await make_agent("supervisor")
    _, agent = await make_agent("agent")
    async with client_for(desk) as client:
        made = await client.post(f"{API}/images", headers=auth(boss), files={"image": ("x.png", PNG, "image/png")})
        assert made.status_code == 201, made.text
        article = await client.post(f"{API}/articles", headers=auth(boss), json={"slug": "map", "translations": {
            "en": {"title": "Map", "body_html": f'<p><img src="{made.json()["url"]}" alt="map"></p>'}}})
        assert f'src="{made.json()["url"]}"' in article.json()["translations"]["en"]["body_html"]
        assert (await client.get(made.json()["url"])).content == PNG
        html = await client.post(f"{API}/images", headers=auth(boss),
                                 files={"image": ("x.png", b"<html><script>alert(1)</script>", "image/png")})
        assert html.status_code == 400
        assert (await client.post(f"{API}/images", headers=auth(agent),
                                  files={"image": ("x.png", PNG, "image/png")})).status_code == 403
        assert (await client.post(f"{API}/images", headers=auth(boss), data={"other": "x"})).status_code == 400
