"""Signing in and out: cookie flags, safe redirects, CSRF on every POST, failed-login limits."""
from __future__ import annotations

import logging

import pytest

from api.auth import SESSION_COOKIE
from ledger.accounts import SESSION_MAX

from .conftest import csrf_token, sign_in


def session_cookie_header(response) -> str:
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(SESSION_COOKIE + "=")]
    assert len(headers) == 1, response.headers.getlist("Set-Cookie")
    return headers[0]


def test_a_page_sends_a_stranger_to_login_and_back_after_signing_in(client, town):
    assert client.get("/").location == "/login"
    response = client.get("/inbox?overdue=1&page=1")
    assert response.status_code == 302
    assert response.location == "/login?next=/inbox%3Foverdue%3D1%26page%3D1"
    page = client.get(response.location).get_data(as_text=True)
    assert 'name="next" value="/inbox?overdue=1&amp;page=1"' in page
    signed_in = sign_in(client, "ht31", next="/inbox?overdue=1&page=1")
    assert signed_in.status_code == 302 and signed_in.location == "/inbox?overdue=1&page=1"
    cookie = session_cookie_header(signed_in)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert f"Max-Age={int(SESSION_MAX.total_seconds())}" in cookie and "Secure" not in cookie
    inbox = client.get("/inbox")
    assert inbox.status_code == 200
    html = inbox.get_data(as_text=True)
    assert "HT31" in html and "班主任 三年级1班" in html and "退出登录" in html
    assert client.get("/").location == "/inbox"
    assert client.get("/login").location == "/inbox"


def test_cookies_are_secure_over_https_or_when_configured(client, town):
    https = town.test_client()
    response = https.post("/login", base_url="https://localhost",
                          headers={"Referer": "https://localhost/login"},
                          data={"username": "ht31", "password": "pw-for-tests",
                                "csrf_token": csrf_token_https(https)})
    assert response.status_code == 302 and "Secure" in session_cookie_header(response)
    town.extensions["baoxue.settings"].secure_cookies = "1"
    assert "Secure" in session_cookie_header(sign_in(client, "ht31"))
    town.extensions["baoxue.settings"].secure_cookies = "0"
    assert "Secure" not in session_cookie_header(sign_in(town.test_client(), "ht31"))


def csrf_token_https(browser) -> str:
    from .conftest import CSRF
    page = browser.get("/login", base_url="https://localhost")
    assert all("Secure" in h for h in page.headers.getlist("Set-Cookie"))  # Flask's session cookie too
    return CSRF.search(page.get_data(as_text=True)).group(1)


def test_a_wrong_password_says_so_in_chinese_and_opens_no_session(client, town, caplog):
    caplog.set_level(logging.DEBUG)
    response = sign_in(client, "ht31", password="not-the-password-42")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "用户名或密码错误" in html and 'value="ht31"' in html
    assert not [h for h in response.headers.getlist("Set-Cookie") if h.startswith(SESSION_COOKIE)]
    assert "not-the-password-42" not in caplog.text and "not-the-password-42" not in html
    assert client.get("/inbox").status_code == 302


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example",
                                    "javascript:alert(1)", "http:/evil.example", "/\tevil", "inbox",
                                    "/logout"])
def test_next_is_followed_only_to_a_local_path(client, town, target):
    response = sign_in(client, "ht31", next=target)
    assert response.status_code == 302 and response.location == "/inbox"


def test_logout_revokes_the_session_on_the_server(client, town):
    sign_in(client, "ht31")
    secret = client.get_cookie(SESSION_COOKIE).value
    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/inbox")})
    assert response.status_code == 302 and response.location == "/login"
    assert client.get_cookie(SESSION_COOKIE) is None
    client.set_cookie(SESSION_COOKIE, secret)  # a copied cookie is dead too
    assert client.get("/inbox").status_code == 302


def test_posts_without_the_csrf_token_are_refused_and_change_nothing(client, town, home_visit):
    refused = client.post("/login", data={"username": "ht31", "password": "pw-for-tests"})
    assert refused.status_code == 400 and "页面已过期" in refused.get_data(as_text=True)
    assert client.get_cookie(SESSION_COOKIE) is None
    task_id = home_visit()
    sign_in(client, "ht31")
    assert client.post("/logout").status_code == 400
    assert client.get("/inbox").status_code == 200  # still signed in
    assert client.post(f"/tasks/{task_id}/claim").status_code == 400
    assert client.post(f"/tasks/{task_id}", data={"summary": "x", "confirmed": "true"}).status_code == 400
    assert client.post(f"/tasks/{task_id}", data={"csrf_token": "forged"}).status_code == 400
    row = town.extensions["baoxue.engine"].tasks.get(task_id)
    assert row.status == "open" and row.assignee is None
    # the REST API takes bearer tokens only and needs no CSRF token
    assert client.post("/api/v1/auth/token", json={"username": "ht31", "password": "pw-for-tests"}).status_code == 201


def test_repeated_failures_are_rate_limited_with_a_chinese_message(client, town):
    for _ in range(5):
        assert sign_in(client, "ht32", password="wrong").status_code == 200
    blocked = sign_in(client, "ht32")  # even the right password waits now
    assert blocked.status_code == 429
    html = blocked.get_data(as_text=True)
    assert "登录失败次数过多" in html and "<form" in html
    assert client.get_cookie(SESSION_COOKIE) is None
    assert sign_in(client, "ht31").status_code == 302  # another user is not held back


def test_pages_forbid_framing_and_caching(client, town):
    headers = client.get("/login").headers
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["Cache-Control"] == "no-store" and headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" not in client.get("/api/openapi.json").headers


def test_the_login_text_names_only_work_the_product_does(client, town):
    """The login page's one line names the work the product does today, each by the process
    that does it (ledgers and figures are still to come: not named)."""
    from api.settings import ROOT
    page = client.get("/login").get_data(as_text=True)
    for words, process in (("三级劝返", "persuasion"), ("送教上门", "home_teaching"),
                           ("目标责任书", "responsibility_agreements")):
        assert words in page and (ROOT / "processes" / f"{process}.bpmn").exists(), words
    assert "台账" not in page and "统计" not in page
