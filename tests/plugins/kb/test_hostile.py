"""Hostile content against the article sanitizer and the theme's template sandbox: nothing a
writer, an import file or a brand template puts in reaches a customer's browser as script."""

from __future__ import annotations

import re
from typing import Any, Callable

import pytest

from plugins.kb.content import sanitize
from plugins.kb.theme import check_template, render_fragment
from core.errors import InvalidRequest
from tests.helpers import auth, client_for, make_agent
from tests.plugins.kb.conftest import kb_desk

API = "/api/v1/plugins/kb"

HOSTILE = [
    '<script>alert(1)</script>',
    '<img src=x onerror="alert(2)">',
    '<a href="javascript:alert(3)">x</a>',
    '<a href="JaVaScRiPt&#58;alert(4)">x</a>',
    '<a href="&#106;avascript:alert(5)">x</a>',
    '<iframe src="https://evil.example"></iframe>',
    '<svg onload="alert(6)"><circle/></svg>',
    '<style>body{background:url(javascript:alert(7))}</style>',
    '<p style="background:url(javascript:alert(8))">styled</p>',
    '<form action="https://evil.example"><input name=card></form>',
    '<object data="evil.swf"></object><embed src="evil.swf">',
    '<img src="data:text/html;base64,PHNjcmlwdD5hbGVydCg5KTwvc2NyaXB0Pg==">',
    '<!--<script>alert(10)</script>-->',
    '<math><mi xlink:href="javascript:alert(11)">x</mi></math>',
    '<div onclick="alert(12)" onmouseover="alert(13)">hover</div>',
    '<base href="https://evil.example/">',
    '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    '<details open ontoggle="alert(14)"><summary>s</summary></details>',
    '<scr<script>ipt>alert(15)</script>',
]
DANGER = re.compile(r"<script|javascript:|onerror|onload|onclick|onmouseover|ontoggle|<iframe|<svg|<style|style=|"
                    r"<form|<object|<embed|data:text|<base|<meta|<math", re.I)


@pytest.mark.parametrize("html", HOSTILE)
def test_sanitizer_removes_script_vectors(html: str) -> None:
    assert not DANGER.search(sanitize(html)), sanitize(html)


def test_sanitizer_keeps_article_markup() -> None:
    html = ('<h2 id="eta">ETA</h2><p>See <a href="/help/acme/en/articles/2">returns</a> or '
            '<a href="https://carrier.example/track">track</a>.</p><img src="https://cdn.example/a.png" alt="map">'
            '<table><tr><th>EU</th><td>38</td></tr></table><ol start="3"><li>x</li></ol>')
    clean = sanitize(html)
    for kept in ('<h2 id="eta">', 'href="/help/acme/en/articles/2"', 'href="https://carrier.example/track"',
                 'src="https://cdn.example/a.png"', "<th>EU</th>", '<ol start="3">'):
        assert kept in clean
    assert 'rel="noopener noreferrer"' in clean


@pytest.mark.parametrize("source", [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ brand.__class__.__init__.__globals__ }}",
    "{% for i in range(10**9) %}x{% endfor %}",
    "{{ [].append(1) }}",
    "{{ {}.update(a=1) }}",
    "{% extends 'layout.html' %}",
    "{% include '/etc/passwd' %}",
    "{{ cycler.__init__.__globals__.os }}",
    "{{ lipsum.__globals__ }}",
    "{{ unclosed",
])
def test_sandbox_refuses_or_neuters_hostile_templates(source: str) -> None:
    try:
        check_template(source, "header_template")
    except InvalidRequest:
        return  # refused at save time with a 400
    out = render_fragment(source, {"brand": {"name": "Acme", "logo_url": "", "key": "acme"}, "language": "en",
                                   "home_url": "/help/acme/en/", "languages": ["en"]})
    assert "class" not in out and "globals" not in out and "os" not in out.split()


def test_sandbox_output_is_escaped_and_sanitized() -> None:
    values = {"brand": {"name": '<img src=x onerror="alert(1)">', "logo_url": "", "key": "acme"},
              "language": "en", "home_url": "/", "languages": ["en"]}
    out = render_fragment('<nav>{{ brand.name }}</nav><script>alert(2)</script><a href="{{ home_url }}" onclick="x()">h</a>',
                          values)
    assert "<script" not in out and "onclick" not in out and "<img" not in out
    assert "&lt;img" in out and '<a href="/"' in out


async def test_hostile_article_and_theme_through_the_api(make_desk: Callable[..., Any]) -> None:
    desk = await kb_desk(make_desk)
    _, admin = await make_agent("admin")
    async with client_for(desk) as client:
        refused = await client.put(f"{API}/brands/acme", headers=auth(admin), json={
            "name": "Acme", "languages": ["en"], "header_template": "{{ [].append(1) }}"})
        assert refused.status_code == 400 and "header_template" in refused.json()["error"]["message"]
        bad_colour = await client.put(f"{API}/brands/acme", headers=auth(admin), json={
            "name": "Acme", "languages": ["en"], "primary_color": "red;}</style><script>alert(1)</script>"})
        assert bad_colour.status_code == 400
        bad_logo = await client.put(f"{API}/brands/acme", headers=auth(admin), json={
            "name": "Acme", "languages": ["en"], "logo_url": "javascript:alert(1)"})
        assert bad_logo.status_code == 400
        ok = await client.put(f"{API}/brands/acme", headers=auth(admin), json={
            "name": "<b>Acme</b>", "languages": ["en"],
            "header_template": "<h1>{{ brand.name }}</h1><script>steal()</script>"})
        assert ok.status_code == 200
        made = await client.post(f"{API}/articles", headers=auth(admin), json={
            "slug": "hostile", "translations": {"en": {
                "title": '<script>alert("title")</script>Returns', "status": "published",
                "body_html": "".join(HOSTILE) + "<p>Returns are free.</p>"}}})
        assert made.status_code == 201
        body = made.json()["translations"]["en"]["body_html"]
        assert not DANGER.search(body) and "<p>Returns are free.</p>" in body
        md = await client.put(f"{API}/articles/{made.json()['id']}/translations/zh", headers=auth(admin), json={
            "title": "退货", "status": "published",
            "body_markdown": "[click](javascript:alert(1)) <img src=x onerror=alert(2)>\n\n<script>x</script>"})
        zh = md.json()["body_html"]  # markdown-it leaves the javascript: link as plain text
        assert "href" not in zh and "onerror" not in zh and "<script" not in zh and 'src="x"' in zh
        page = await client.get(f"/help/acme/en/articles/{made.json()['id']}")
        assert page.status_code == 200 and "Returns are free." in page.text
        assert "&lt;script&gt;alert(&#34;title&#34;)&lt;/script&gt;Returns" in page.text
        assert "&lt;b&gt;Acme&lt;/b&gt;" in page.text and "steal()" not in page.text
        article = page.text.split("<article>", 1)[1].split("</article>", 1)[0]
        assert not DANGER.search(article)
        assert "<script" not in page.text and "javascript:" not in page.text
