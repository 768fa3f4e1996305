"""The README and docs/ link only to files that exist in the repository (issue 17)."""
from __future__ import annotations

import re

from api.settings import ROOT

LINK = re.compile(r"\[[^\]]*\]\(([^)\s#]+)(?:#[^)]*)?\)")
PAGES = [ROOT / "README.md", ROOT / "engine" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_every_relative_link_of_the_docs_resolves():
    broken = []
    for page in PAGES:
        for target in LINK.findall(page.read_text(encoding="utf-8")):
            if "://" in target or target.startswith("mailto:"):
                continue
            if not (page.parent / target).resolve().exists():
                broken.append(f"{page.relative_to(ROOT)} -> {target}")
    assert broken == []


def test_no_page_points_outside_the_repository():
    """The shared planning documents (../shared/...) are not part of a clone."""
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        assert "../shared" not in text and "DOMAIN-REFERENCE" not in text, page


def test_the_readme_links_every_docs_page():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for page in (ROOT / "docs").glob("*.md"):
        if page.name != "README.md":
            assert f"docs/{page.name}" in readme, page.name
