"""Issue 10 §7: an ID number is masked so that it cannot be rebuilt, on every page and paper,
and a full value is shown only for a reason, which the access log keeps (pages and REST;
SQLite and PostgreSQL)."""
from __future__ import annotations

import re
from datetime import date

from ledger import idnumber
from ledger.privacy import mask_id, mask_registry_number

from .pages_helpers import access_log, html_of, post

FULL_ID = "44010120160501001X"
REASON = "核对学籍系统中的身份证号"


def reveal(browser, fields=("id_number",), reason=REASON, child_id=1):
    return post(browser, f"/children/{child_id}/reveal", {"fields": list(fields), "reveal_reason": reason},
                token_from=f"/children/{child_id}")


def test_a_masked_id_keeps_only_the_region_so_a_birth_date_beside_it_rebuilds_nothing():
    number = idnumber.make("440101", date(2016, 5, 1), 1)
    masked = mask_id(number)
    assert masked == "440101" + "*" * 12
    # The birth date, sequence and check digit are all hidden: knowing the birth date and the
    # household registration place leaves every one of the 1,000 sequences possible.
    candidates = {idnumber.make("440101", date(2016, 5, 1), seq) for seq in range(1000)}
    assert all(mask_id(c) == masked for c in candidates) and len(candidates) == 1000
    assert mask_registry_number("G" + number) == "G" + masked
    assert mask_id("123456") == "12****" and mask_id("") == ""


def test_the_child_pages_show_the_masked_id_only(town, browser):
    for path in ("/children", "/children/1"):
        html = html_of(browser("ht31").get(path))
        assert "440101************" in html and FULL_ID not in html and "20160501" not in html


def test_revealing_the_full_id_asks_for_a_reason_and_logs_it(town, browser):
    teacher = browser("ht31")
    before = access_log(town, "child:1")
    for reason in ("", "  ", "看看"):
        refused = reveal(teacher, reason=reason)
        page = html_of(refused)
        assert refused.status_code == 422 and FULL_ID not in page
        assert re.search(r'id="e-reveal_reason" role="alert">请填写查看完整信息的理由', page)
    assert reveal(teacher, fields=()).status_code == 422
    assert all(e[1] == "view" for e in access_log(town, "child:1")[len(before):])
    assert not [e for e in access_log(town, "child:1") if e[1] == "reveal"]

    shown = reveal(teacher, fields=("id_number", "birth_date"))
    page = html_of(shown)
    assert shown.status_code == 200 and FULL_ID in page and "2016-05-01" in page and "已记入访问日志" in page
    assert [e for e in access_log(town, "child:1") if e[1] == "reveal"] == [
        ("ht31", "reveal", {"fields": ["id_number", "birth_date"], "reason": REASON, "via": "page"})]
    # The next ordinary view is masked again.
    assert FULL_ID not in html_of(teacher.get("/children/1"))


def test_who_may_reveal(town, browser):
    assert reveal(browser("vsjt")).status_code == 403          # sees the child, fills none of its papers
    assert 'action="/children/1/reveal"' not in html_of(browser("vsjt").get("/children/1"))
    assert reveal(browser("ht32")).status_code == 404          # does not see the child
    assert reveal(browser("regzx")).status_code == 200         # the registrar checks registry entries
    assert [e[0] for e in access_log(town, "child:1") if e[1] == "reveal"] == ["regzx"]


def test_the_rest_reveal_needs_a_reason(town, client, as_user):
    url = "/api/v1/children/1/reveal"
    missing = client.post(url, json={"fields": ["id_number"]}, headers=as_user("ht31"))
    assert missing.status_code == 422 and "理由" in missing.get_json()["errors"]["reason"]
    bad = client.post(url, json={"fields": ["address"], "reason": REASON}, headers=as_user("ht31"))
    assert bad.status_code == 422 and "fields" in bad.get_json()["errors"]
    assert not [e for e in access_log(town, "child:1") if e[1] == "reveal"]
    assert client.post(url, json={"fields": ["id_number"], "reason": REASON},
                       headers=as_user("vsjt")).status_code == 403
    assert client.post("/api/v1/children/2/reveal", json={"fields": ["id_number"], "reason": REASON},
                       headers=as_user("ht31")).status_code == 404
    done = client.post(url, json={"fields": ["id_number"], "reason": REASON}, headers=as_user("ht31"))
    assert done.status_code == 200 and done.get_json() == {"child_id": 1, "values": {"id_number": FULL_ID}}
    assert [e for e in access_log(town, "child:1") if e[1] == "reveal"] == [
        ("ht31", "reveal", {"fields": ["id_number"], "reason": REASON, "via": "api"})]
