"""Signing in from a browser test: one browser context per person, at the width under test."""
from __future__ import annotations

from contextlib import contextmanager

from playwright.sync_api import expect

from tests.api.town import PASSWORD


def login(page, base: str, username: str, password: str = PASSWORD) -> None:
    """Sign ``page`` in on the login page; the inbox is where a signed-in user lands."""
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{base}/inbox")


@contextmanager
def signed_in(chromium, base: str, username: str, width: int = 360, height: int = 740):
    """A page signed in as ``username`` in a browser context of its own ``width`` px wide;
    the context is closed when the block ends, whatever happened in it."""
    context = chromium.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        login(page, base, username)
        yield page
    finally:
        context.close()
