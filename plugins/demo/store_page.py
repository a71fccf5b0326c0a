"""/demo-store: a sample store page that carries the contact widget the way a real store would,
with one script tag (docs/plugins/webchat.md)."""

from __future__ import annotations

from litestar import Response, get

PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Demo Shop · 演示店铺</title></head>
<body>
<h1>Demo Shop · 演示店铺</h1>
<p>Green tea, oolong, teapots and cups. 绿茶、乌龙茶、茶壶和茶杯。</p>
<p><a href="/help/demo/">Help center · 帮助中心</a></p>
<p>The round button at the bottom right is the contact widget: it searches the help center first, then
lets you write; your message arrives in the inbox as a ticket. 右下角的圆形按钮就是客服小部件。</p>
<script src="/webchat/store/widget.js" async></script>
</body></html>"""


@get("/demo-store", include_in_schema=False)
async def demo_store() -> Response:
    return Response(PAGE, media_type="text/html; charset=utf-8")
