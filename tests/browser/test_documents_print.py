"""The two documents in Chromium (issue 17 "Papers and pages on a phone"): at 360 px a readable
version with no horizontal overflow and a button to the print version; at 1280 px the A4 page;
printed to PDF on A4 the report is one page (its receipt block included) and the notice two
(the notice, then its 送达回证)."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.processes.documents_case import NOTICE_URL, REPORT_URL, served

from .conftest import served_town
from .signin import signed_in


@pytest.fixture
def case_server(tmp_path):
    """A town driven to a served notice (tests.processes.documents_case), served live."""
    with served_town(tmp_path, "docs.db") as (town, base):
        yield base, served(town)


def overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def pdf_pages(page) -> int:
    pdf = page.pdf(format="A4", print_background=False, prefer_css_page_size=True)
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf))


def test_a_phone_reads_the_documents_and_opens_the_print_version(chromium, case_server):
    base, case_id = case_server
    with signed_in(chromium, base, "town", 360, 800) as page:
        for url, title in ((REPORT_URL, "辍学情况报告单"), (NOTICE_URL, "限期返校通知书")):
            page.goto(base + url.format(case_id))
            phone = page.locator("section.doc-phone")
            expect(phone).to_be_visible()
            expect(phone.locator("h1")).to_have_text(title)
            expect(page.locator("article.doc")).to_be_hidden()
            assert overflow(page) == 0, url
            page.get_by_role("link", name="打开打印版（A4）").click()
            expect(page.locator("article.doc")).to_be_visible()
            expect(page.locator("section.doc-phone")).to_be_hidden()
            page.get_by_role("link", name="返回手机阅读版").click()
            expect(page.locator("section.doc-phone")).to_be_visible()


def test_a_desk_shows_the_a4_page_and_it_prints_on_its_pages(chromium, case_server):
    base, case_id = case_server
    with signed_in(chromium, base, "town", 1280, 800) as page:
        page.goto(base + REPORT_URL.format(case_id))
        expect(page.locator("article.doc")).to_be_visible()
        expect(page.locator("section.doc-phone")).to_be_hidden()
        assert overflow(page) == 0
        expect(page.locator("article.doc")).to_contain_text("签收人：TOWN")
        assert pdf_pages(page) == 1                 # the receipt block stays on the report's page
        page.goto(base + NOTICE_URL.format(case_id))
        expect(page.locator("article.doc")).to_be_visible()
        assert overflow(page) == 0
        assert pdf_pages(page) == 2                 # the notice, then its 送达回证
        page.goto(base + NOTICE_URL.format(case_id) + "?copy=guardian")
        assert pdf_pages(page) == 2
