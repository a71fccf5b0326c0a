"""The knowledge base's inbox pages over ASGI with CSRF: a supervisor writes an article in two
languages, sees its revisions, the diff and restores one; an agent reads but cannot write; the
pages speak the agent's language."""

from __future__ import annotations

import re
from typing import Any, Callable

from core.tables import Agent
from plugins.kb.tables import KbRevision, KbTranslation
from tests.helpers import client_for, make_agent
from tests.plugins.kb.conftest import kb_desk
from tests.web.inbox_helpers import form_post, sign_in


async def test_supervisor_writes_agent_reads(make_desk: Callable[..., Any]) -> None:
    desk = await kb_desk(make_desk, public_url=None)
    await make_agent("supervisor", email="sup@example.com")
    await make_agent("agent", email="agent@example.com")
    async with client_for(desk) as client:
        assert (await client.get("/inbox/kb", follow_redirects=False)).status_code in (302, 303)  # sign in first
        await sign_in(client, "sup@example.com")
        assert (await client.get("/inbox/kb")).status_code == 200
        made = await form_post(client, "/inbox/kb/articles", {
            "language": "en", "title": "Returns", "status": "published", "visibility": "public", "tags": "returns, policy",
            "slug": "returns", "format": "markdown", "body": "Return within **30 days**.<script>x()</script>"},
            page="/inbox/kb/articles/new")
        assert made.status_code in (302, 303), made.text
        location = made.headers["location"]
        article_id = int(re.search(r"/articles/(\d+)", location).group(1))
        zh = await form_post(client, "/inbox/kb/articles", {
            "id": str(article_id), "language": "zh", "title": "退货", "status": "published", "visibility": "public",
            "tags": "returns, policy", "slug": "returns", "format": "html", "body": "<p>30天内可退货。</p>"},
            page=location)
        assert zh.status_code in (302, 303)
        again = await form_post(client, "/inbox/kb/articles", {
            "id": str(article_id), "language": "en", "title": "Returns", "status": "published", "visibility": "public",
            "tags": "returns", "slug": "returns", "format": "html", "body": "<p>Return within 14 days.</p>",
            "note": "shorter window"}, page=location)
        assert again.status_code in (302, 303)
        text = await KbTranslation.select().where(KbTranslation.language == "en").first()
        assert text["body_html"] == "<p>Return within 14 days.</p>" and text["revision"] == 2
        editor = await client.get(f"/inbox/kb/articles/{article_id}?lang=en")
        assert "shorter window" in editor.text and "Restore" in editor.text
        diff = await client.get(f"/inbox/kb/articles/{article_id}/diff?lang=en&to=2")
        assert diff.status_code == 200 and "<ins>+&lt;p&gt;Return within 14 days.&lt;/p&gt;</ins>" in diff.text
        assert "<del>-&lt;p&gt;Return within &lt;strong&gt;30 days&lt;/strong&gt;.&lt;/p&gt;</del>" in diff.text
        restored = await form_post(client, f"/inbox/kb/articles/{article_id}/restore",
                                   {"language": "en", "number": "1"}, page=location)
        assert restored.status_code in (302, 303)
        text = await KbTranslation.select().where(KbTranslation.language == "en").first()
        assert "<strong>30 days</strong>" in text["body_html"] and "script" not in text["body_html"]
        assert await KbRevision.count().where(KbRevision.language == "en") == 3
        bad = await form_post(client, "/inbox/kb/articles", {
            "language": "en", "title": "", "status": "published", "format": "html", "body": "x", "slug": "Bad Slug"},
            page="/inbox/kb/articles/new")
        assert bad.status_code == 400 and 'role="alert"' in bad.text
        taken = await form_post(client, "/inbox/kb/articles", {
            "language": "en", "title": "Other", "status": "draft", "format": "html", "body": "x", "slug": "returns"},
            page="/inbox/kb/articles/new")
        assert taken.status_code == 409 and "returns" in taken.text
        cat = await form_post(client, "/inbox/kb/categories", {"slug": "policies", "names": "en: Policies\nzh: 政策"},
                              page="/inbox/kb/categories")
        assert cat.status_code in (302, 303)
        assert "政策" in (await client.get("/inbox/kb/categories")).text

    async with client_for(desk) as client:
        await sign_in(client, "agent@example.com")
        await Agent.update({Agent.locale: "zh"}).where(Agent.email == "agent@example.com")
        listing = await client.get("/inbox/kb")
        assert listing.status_code == 200 and "知识库" in listing.text and "退货" in listing.text
        assert "新建文章" not in listing.text  # no write button for an agent
        assert (await client.get(f"/inbox/kb/articles/{article_id}?lang=zh")).status_code == 200
        refused = await form_post(client, "/inbox/kb/articles", {
            "id": str(article_id), "language": "en", "title": "Hacked", "status": "published", "format": "html",
            "body": "x"}, page="/inbox/kb")
        assert refused.status_code == 403
        assert (await client.get("/inbox/kb/articles/new")).status_code == 403


PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


async def test_editor_assets_and_image_upload(make_desk: Callable[..., Any]) -> None:
    desk = await kb_desk(make_desk, public_url=None)
    await make_agent("supervisor", email="sup@example.com")
    await make_agent("agent", email="agent@example.com")
    async with client_for(desk) as client:
        await sign_in(client, "sup@example.com")
        quill = await client.get("/inbox/kb/assets/quill.js")
        assert quill.status_code == 200 and "Quill" in quill.text[:5000]
        assert (await client.get("/inbox/kb/assets/..%2F..%2Fetc%2Fpasswd")).status_code == 404
        page = (await client.get("/inbox/kb/articles/new")).text
        token = re.search(r'name="_csrf_token" value="([^"]+)"', page).group(1)
        uploaded = await client.post("/inbox/kb/images", files={"image": ("a.png", PNG, "image/png")},
                                     headers={"x-csrftoken": token})
        assert uploaded.status_code == 201, uploaded.text
        url = uploaded.json()["url"]
        assert re.fullmatch(r"/help/images/[0-9a-f]{64}\.png", url)
        fake = await client.post("/inbox/kb/images", files={"image": ("a.png", b"<svg onload=alert(1)>", "image/png")},
                                 headers={"x-csrftoken": token})
        assert fake.status_code == 400
        no_token = await client.post("/inbox/kb/images", files={"image": ("a.png", PNG, "image/png")})
        assert no_token.status_code == 403
    async with client_for(desk) as client:  # anyone may see it (help center pages show it)
        image = await client.get(url)
        assert image.status_code == 200 and image.content == PNG and image.headers["content-type"] == "image/png"
        assert (await client.get("/help/images/" + "0" * 64 + ".png")).status_code == 404
        assert (await client.get("/inbox/kb/assets/quill.js", follow_redirects=False)).status_code in (302, 303)
        await sign_in(client, "agent@example.com")
        token = re.search(r'name="_csrf_token" value="([^"]+)"', (await client.get("/inbox/kb")).text).group(1)
        refused = await client.post("/inbox/kb/images", files={"image": ("a.png", PNG, "image/png")},
                                    headers={"x-csrftoken": token})
        assert refused.status_code == 403


async def test_admin_sets_up_a_help_center(make_desk: Callable[..., Any]) -> None:
    desk = await kb_desk(make_desk, public_url=None)
    await make_agent("admin", email="boss@example.com")
    await make_agent("supervisor", email="sup@example.com")
    async with client_for(desk) as client:
        await sign_in(client, "boss@example.com")
        hostile = await form_post(client, "/inbox/kb/brands", {
            "key": "tea", "name": "Tea", "languages": "zh, en", "primary_color": "#0b6e4f",
            "background_color": "#ffffff", "text_color": "#222222",
            "header_template": "{{ ''.__class__.__mro__ }}", "footer_template": ""}, page="/inbox/kb/brands")
        assert hostile.status_code == 400 and 'role="alert"' in hostile.text
        saved = await form_post(client, "/inbox/kb/brands", {
            "key": "tea", "name": "Tea House", "languages": "zh, en", "primary_color": "#0b6e4f",
            "background_color": "#ffffff", "text_color": "#222222", "logo_url": "",
            "header_template": "<strong>{{ brand.name }}</strong> {{ language }}", "footer_template": "<p>© Tea</p>"},
            page="/inbox/kb/brands")
        assert saved.status_code in (302, 303), saved.text
        assert "/help/tea/" in (await client.get("/inbox/kb/brands")).text
    async with client_for(desk) as client:
        home = await client.get("/help/tea/zh/")
        assert home.status_code == 200 and "<strong>Tea House</strong> zh" in home.text and "© Tea" in home.text
        assert "--brand:#0b6e4f" in home.text
        await sign_in(client, "sup@example.com")
        assert (await client.get("/inbox/kb/brands")).status_code == 403
