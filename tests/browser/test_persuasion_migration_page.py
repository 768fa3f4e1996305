"""An administrator moves running persuasion cases to a version changed by a draft, on the
migration page (issue 14 "migrate a demo case"): the case before the changed step moves, the
one past it stays on its version with the reason, and the case pages name each version."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.processes.forms_data import LEGAL
from tests.processes.harness import U
from tests.processes.test_persuasion import through_notice
from tests.processes.test_persuasion_migration import deploy_renamed_legal_education, version_of

from .conftest import served_town
from .signin import signed_in


def test_the_administrator_moves_the_cases_that_allow_it(tmp_path, chromium):
    with served_town(tmp_path, "migrate.db") as (town, base):
        past = through_notice(town).id
        town.report_days("2025-10-13", "2025-10-15", {1: U})
        town.pass_until("2025-10-16", 8)
        town.complete("judicial", "legal_education", LEGAL)        # past the step the new version renames
        town.report("2025-10-16", {2: U})
        early = town.case(2).id                                     # at its first call
        deploy_renamed_legal_education(town)

        with signed_in(chromium, base, "admin", width=1280) as page:
            page.goto(f"{base}/processes/persuasion/migrate")
            group = page.locator("#version-1")
            expect(group.locator("h2")).to_contain_text("可迁移 1 件，不能迁移 1 件")
            expect(group.locator("tr", has_text=f"#{past}")).to_contain_text("对监护人开展法治教育")
            group.locator("input[name=confirm]").check()
            group.locator("button[type=submit]").click()
            expect(page.locator(".flash")).to_contain_text("已迁移 1 件，未迁移 1 件")

        assert (version_of(town, early), version_of(town, past)) == (2, 1)
        with signed_in(chromium, base, "leader", width=1280) as page:
            page.goto(f"{base}/instances/{early}")
            expect(page.locator("h1")).to_contain_text("流程第 2 版")
            page.goto(f"{base}/instances/{past}")
            expect(page.locator("h1")).to_contain_text("流程第 1 版")
