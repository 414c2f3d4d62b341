"""Content-Security-Policy: only our own scripts and styles, so the templates must carry nothing inline."""

from __future__ import annotations

import re

import pytest

from tests.helpers import PHONE, ROOT, code_in, wrong_code

pytestmark = pytest.mark.django_db

TEMPLATES = [*(ROOT / "templates").rglob("*.html"), *(ROOT / "verification" / "templates").rglob("*.html")]


def directives(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in header.split(";"))


def assert_strict(response) -> None:
    policy = directives(response)
    assert policy["default-src"] == "'none'"
    for name in ("script-src", "style-src", "img-src", "form-action"):
        assert policy[name] == "'self'", name
    assert policy["frame-ancestors"] == "'none'" and policy["base-uri"] == "'none'"
    assert "unsafe-inline" not in response["Content-Security-Policy"]


def test_every_page_sends_the_policy(client, admin_client, frozen, sms_outbox):
    pages = [client.get("/")]
    pages.append(client.post("/", {"phone": PHONE}))
    pages.append(client.get("/verify/"))
    bad = wrong_code(code_in(sms_outbox[-1]))
    for _ in range(3):
        pages.append(client.post("/verify/", {"code": bad}))
    pages.append(client.get("/locked/"))
    frozen.shift(601)
    client.post("/", {"phone": PHONE})
    pages.append(client.post("/verify/", {"code": code_in(sms_outbox[-1])}))
    pages.append(client.get("/verified/"))
    pages += [client.get("/healthz"), client.get("/admin/login/"), admin_client.get("/admin/")]
    assert {r.status_code for r in pages} == {200, 302}
    for response in pages:
        assert_strict(response)


@pytest.mark.parametrize("template", sorted(TEMPLATES), ids=lambda p: p.name)
def test_templates_have_nothing_inline(template):
    html = template.read_text()
    assert not re.search(r"<script(?![^>]*\ssrc=)[^>]*>", html), "inline <script>"
    assert "<style" not in html
    assert not re.search(r"\sstyle=", html)
    assert not re.search(r"\son[a-z]+=", html), "inline event handler"
    assert "javascript:" not in html
