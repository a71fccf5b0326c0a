"""Signing in to the inbox from a test client, the way a browser does (CSRF token from the form)."""

from __future__ import annotations

import re
from typing import Any

from litestar.testing import AsyncTestClient

_TOKEN = re.compile(r'name="_csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = _TOKEN.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1)


async def sign_in(client: AsyncTestClient, email: str, password: str = "pw") -> Any:
    page = await client.get("/login")
    token = csrf_from(page.text)
    return await client.post("/login", data={"email": email, "password": password, "_csrf_token": token,
                                             "next": "/inbox"}, follow_redirects=False)


async def form_post(client: AsyncTestClient, url: str, data: dict[str, Any], page: str = "/inbox/q/open",
                    **kwargs: Any) -> Any:
    """Post a form with the CSRF token a page of the inbox carries."""
    token = csrf_from((await client.get(page)).text)
    return await client.post(url, data={**data, "_csrf_token": token}, follow_redirects=False, **kwargs)
