"""Failed sign-ins slow attackers down and never keep the real user out (issue 8).

The counts are database rows (``ledger.login_throttle``): the login page and the API's token
endpoint share them, and so do two app instances on one database. Addresses are set per
request (``REMOTE_ADDR``), as a client behind them would arrive.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from api.app import create_app
from api.auth import SESSION_COOKIE
from api.ratelimit import DEVICE_COOKIE
from engine.clock import FixedClock
from ledger import login_throttle as policy
from tests.api.town import PASSWORD

from .conftest import csrf_token

HOME, ATTACKER, SCHOOL = "10.1.1.1", "203.0.113.9", "198.51.100.7"


@pytest.fixture
def clock(town):
    """The app's clock, settable (the waits are in minutes)."""
    fixed = FixedClock(datetime(2025, 3, 3, 8, 0, tzinfo=timezone.utc))
    town.extensions["baoxue.engine"].clock = fixed
    return fixed


def page_login(browser, username, password, address):
    token = csrf_token(browser)
    return browser.post("/login", data={"username": username, "password": password, "csrf_token": token},
                        environ_base={"REMOTE_ADDR": address})


def api_login(client, username, password, address, **headers):
    return client.post("/api/v1/auth/token", json={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address}, headers=headers)


def signed_in(response) -> bool:
    return response.status_code in (201, 302) and (
        response.status_code == 201 or any(h.startswith(SESSION_COOKIE + "=")
                                           for h in response.headers.getlist("Set-Cookie")))


def test_a_guessed_user_still_signs_in_from_a_trusted_device_or_address(town, clock):
    victim_browser = town.test_client()
    assert signed_in(page_login(victim_browser, "ht32", PASSWORD, HOME))   # earlier, from home
    assert victim_browser.get_cookie(DEVICE_COOKIE, path="/login") is not None
    victim_browser.delete_cookie(SESSION_COOKIE)   # that session is over; the device cookie stays
    attacker = town.test_client()
    for _ in range(policy.PAIR_LIMIT):
        assert page_login(attacker, "ht32", "guess-123", ATTACKER).status_code == 200
    blocked = page_login(attacker, "ht32", PASSWORD, ATTACKER)   # now even the right password waits here
    assert blocked.status_code == 429 and not signed_in(blocked)
    assert int(blocked.headers["Retry-After"]) == policy.WINDOW.total_seconds()
    assert "登录失败次数过多，请 15 分钟后再试" in blocked.get_data(as_text=True)
    for i in range(policy.USER_FREE - policy.PAIR_LIMIT):   # then from many addresses
        assert api_login(attacker, "ht32", "guess-123", f"203.0.113.{100 + i}").status_code == 401
    slowed = api_login(attacker, "ht32", PASSWORD, "192.0.2.50")
    assert slowed.status_code == 429 and slowed.json["code"] == "too_many_requests"
    assert slowed.headers["Retry-After"] == str(int(policy.USER_BASE_DELAY.total_seconds()))

    assert signed_in(api_login(town.test_client(), "ht32", PASSWORD, HOME))          # trusted address
    assert signed_in(page_login(victim_browser, "ht32", PASSWORD, ATTACKER))         # trusted device, even there
    assert signed_in(page_login(town.test_client(), "ht31", PASSWORD, ATTACKER))     # others unaffected
    # A new place only waits, a growing delay, never a lock:
    clock.advance(timedelta(seconds=int(slowed.headers["Retry-After"])))
    assert signed_in(api_login(town.test_client(), "ht32", PASSWORD, "192.0.2.50"))


def test_name_guessing_from_a_school_address_keeps_nobody_there_out(town, clock):
    client = town.test_client()
    assert signed_in(api_login(client, "ht31", PASSWORD, SCHOOL))   # a teacher who works there
    for i in range(40):
        assert api_login(client, f"nobody{i}", "guess-123", SCHOOL).status_code == 401
    assert signed_in(page_login(town.test_client(), "pzx", PASSWORD, SCHOOL))   # first time there: fine
    for i in range(40, policy.ADDRESS_LIMIT):
        assert api_login(client, f"nobody{i}", "guess-123", SCHOOL).status_code == 401
    assert api_login(client, "nobody-more", "guess-123", SCHOOL).status_code == 429
    for username in ("ht31", "pzx"):   # everyone who signed in there before
        assert signed_in(api_login(client, username, PASSWORD, SCHOOL))
    assert signed_in(api_login(client, "regzx", PASSWORD, HOME))   # and from anywhere else
    assert api_login(client, "regzx", PASSWORD, SCHOOL).status_code == 429   # a newcomer there waits
    clock.advance(policy.ADDRESS_WINDOW)
    assert signed_in(api_login(client, "regzx", PASSWORD, SCHOOL))


def test_the_page_and_the_api_share_one_count(town, clock):
    client = town.test_client()
    for _ in range(3):
        assert api_login(client, "ht31", "guess-123", ATTACKER).status_code == 401
    for _ in range(policy.PAIR_LIMIT - 3):
        assert page_login(client, "ht31", "guess-123", ATTACKER).status_code == 200
    assert page_login(client, "ht31", "guess-123", ATTACKER).status_code == 429
    assert api_login(client, "ht31", "guess-123", ATTACKER).status_code == 429
    assert api_login(client, "HT31 ", "guess-123", ATTACKER).status_code == 429   # same name, other spelling


@pytest.fixture
def second_app(town, clock):
    """Another app instance (another server process) on the same database."""
    apps = []

    def make(**changes):
        other = create_app(replace(town.extensions["baoxue.settings"], **changes))
        other.extensions["baoxue.engine"].clock = clock
        apps.append(other)
        return other
    yield make
    for other in apps:
        other.extensions["baoxue.engine"].close()


def test_two_app_instances_on_one_database_share_the_count(town, second_app):
    other = second_app()
    first, second = town.test_client(), other.test_client()
    for i in range(policy.PAIR_LIMIT):
        assert api_login(first if i % 2 else second, "ht32", "guess-123", ATTACKER).status_code == 401
    assert api_login(first, "ht32", PASSWORD, ATTACKER).status_code == 429
    assert api_login(second, "ht32", PASSWORD, ATTACKER).status_code == 429
    assert signed_in(api_login(second, "ht32", PASSWORD, HOME))
    assert signed_in(api_login(first, "ht32", PASSWORD, HOME))


def test_behind_a_proxy_each_client_address_counts_on_its_own(town, second_app):
    proxied = second_app(proxies=1).test_client()   # BAOXUE_PROXIES=1: X-Forwarded-For names the client
    for _ in range(policy.PAIR_LIMIT):
        assert api_login(proxied, "ht31", "guess-123", "127.0.0.1", **{"X-Forwarded-For": ATTACKER}).status_code == 401
    assert api_login(proxied, "ht31", PASSWORD, "127.0.0.1", **{"X-Forwarded-For": ATTACKER}).status_code == 429
    assert signed_in(api_login(proxied, "ht31", PASSWORD, "127.0.0.1", **{"X-Forwarded-For": HOME}))


def test_a_success_forgets_the_users_own_typos_from_there(town, clock):
    client = town.test_client()
    for _ in range(policy.PAIR_LIMIT - 1):
        assert api_login(client, "ht31", "typo-123", HOME).status_code == 401
    assert signed_in(api_login(client, "ht31", PASSWORD, HOME))
    for _ in range(policy.PAIR_LIMIT - 1):
        assert api_login(client, "ht31", "typo-123", HOME).status_code == 401
    assert signed_in(api_login(client, "ht31", PASSWORD, HOME))
