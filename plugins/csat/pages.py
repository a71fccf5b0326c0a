"""The public survey page: GET/POST /csat/{token}, in the customer's language, no sign-in.

The signed one-time token is the capability, so the form needs no session or CSRF cookie (a forged
post has no valid token). Answers: 200 the form / thanks, 400 malformed link or bad score,
403 forged link, 410 expired or already answered.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path
from typing import Any

import jinja2
from litestar import Request, Response, get, post

from plugins.csat.catalog import page_language, strings
from plugins.csat.settings import CsatSettings
from plugins.csat.survey import MAX_COMMENT, answer, lookup

_env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(Path(__file__).parent / "templates")),
                          autoescape=True, undefined=jinja2.StrictUndefined)
HEADERS = {"cache-control": "no-store", "referrer-policy": "no-referrer", "x-robots-tag": "noindex"}


def _render(status: int, language: str | None, **context: Any) -> Response:
    lang = page_language(language)
    context.setdefault("problem", None)
    context.setdefault("comment", "")
    context.setdefault("message", "")
    html = _env.get_template("survey.html").render(lang=lang, t=strings(lang), **context)
    return Response(html, status_code=status, media_type="text/html", headers={**HEADERS, **_policy(html)})


def _policy(html: str) -> dict[str, str]:
    """The page's own Content-Security-Policy, stricter than the desk's default (which forbids
    inline styles): no script at all, and only the page's own <style> element, allowed by its hash."""
    styles = re.findall(r"<style>(.*?)</style>", html, flags=re.S)
    hashes = " ".join("'sha256-%s'" % base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() for s in styles)
    style_src = hashes or "'none'"
    return {"content-security-policy": f"default-src 'none'; style-src {style_src}; form-action 'self'; "
                                       "base-uri 'none'; frame-ancestors 'none'"}


def _form(survey: dict[str, Any], status: int = 200, problem: str | None = None, comment: str = "") -> Response:
    scale = CsatSettings(survey=survey["kind"]).scale()
    return _render(status, survey["language"], state="form", kind=survey["kind"], scale=list(scale),
                   problem=problem, comment=comment)


def _refused(found: Any) -> Response:
    language = found.survey["language"] if found.survey else None
    return _render(found.status, language, state="error", message=strings(page_language(language))[found.reason])


@get("/csat/{token:str}", include_in_schema=False)
async def survey_page(request: Request, token: str) -> Response:
    found = await lookup(request.app.state.desk, token)
    if found.status != 200:
        return _refused(found)
    return _form(found.survey)


@post("/csat/{token:str}", include_in_schema=False, opt={"exclude_from_csrf": True}, status_code=200)
async def survey_answer(request: Request, token: str) -> Response:
    desk = request.app.state.desk
    found = await lookup(desk, token)
    if found.status != 200:
        return _refused(found)
    survey = found.survey
    form = await request.form()
    t = strings(survey["language"])
    comment = str(form.get("comment") or "").strip()
    raw = str(form.get("score") or "").strip()
    scale = CsatSettings(survey=survey["kind"]).scale()
    if not raw.lstrip("-").isdigit() or int(raw) not in scale:
        return _form(survey, 400, t["error_score"], comment)
    if len(comment) > MAX_COMMENT:
        return _form(survey, 400, t["error_comment"], comment[:MAX_COMMENT])
    if not await answer(desk, survey, int(raw), comment):
        return _render(410, survey["language"], state="error", message=t["error_410_used"])
    return _render(200, survey["language"], state="thanks")
