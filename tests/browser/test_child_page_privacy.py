"""The child page on a phone and a desk: the ID masked to its region, a full value only for a
written reason (issue 10 §7), nothing wider than the screen."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .signin import signed_in

FULL_ID = "44010120160501001X"


@pytest.mark.parametrize("width", [360, 1280])
def test_reveal_the_id_with_a_reason(live_app, chromium, width):
    base = live_app.config["LIVE_URL"]
    with signed_in(chromium, base, "ht31", width) as page:
        page.goto(f"{base}/children/1")
        expect(page.locator(".facts").first).to_contain_text("440101************")
        assert FULL_ID not in page.content()
        page.click("#reveal summary")
        page.click("#reveal button[type=submit]")                  # no reason
        expect(page.locator("#e-reveal_reason")).to_contain_text("请填写查看完整信息的理由")
        assert FULL_ID not in page.content()
        page.fill("#f-reveal_reason", "核对学籍系统中的身份证号")
        page.click("#reveal button[type=submit]")
        expect(page.locator("#revealed")).to_contain_text(FULL_ID)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.goto(f"{base}/children/1")                            # masked again on the next view
        assert FULL_ID not in page.content()


def test_the_referral_asks_before_it_is_sent(live_app, chromium):
    """A referral starts a case for two offices: the button asks first (api/static/confirm.js);
    declining sends nothing."""
    base = live_app.config["LIVE_URL"]
    engine = live_app.extensions["baoxue.engine"]
    with signed_in(chromium, base, "ht31", 360) as page:
        page.goto(f"{base}/children/1")
        asked = []
        page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
        page.click("#home-teaching button[type=submit]")
        expect(page.locator("#home-teaching button[type=submit]")).to_be_visible()
        assert asked and "确认转介该生送教上门" in asked[0]
        page.once("dialog", lambda dialog: dialog.accept())
        page.click("#home-teaching button[type=submit]")
        expect(page.locator(".flash-success")).to_contain_text("已转介送教上门")
        assert _referrals(engine) == 1          # the declined one was never sent


def _referrals(engine) -> int:
    from sqlalchemy import func, select

    from engine.persistence.models import Message
    with engine.db.read() as session:
        return session.scalar(select(func.count()).select_from(Message)
                              .where(Message.name == "home_teaching_referral"))
