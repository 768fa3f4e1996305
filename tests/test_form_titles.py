"""No form asks two questions under one label (the fresh-user review: the home-visit record had
two fields both titled 家访结果, one a choice and one a text). Checked for every object of every
form in forms/, nested ones included."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from tests.test_form_date_order import objects

FORMS = sorted((Path(__file__).resolve().parent.parent / "forms").glob("*.schema.json"))


def repeated_titles(schema: dict) -> list[str]:
    found = []
    for path, obj in objects(schema):
        titles = Counter(sub.get("title") for sub in obj["properties"].values() if isinstance(sub, dict) and sub.get("title"))
        found += [f"{path}: {title!r} labels {count} fields" for title, count in titles.items() if count > 1]
    return found


@pytest.mark.parametrize("form", FORMS, ids=[f.name.removesuffix(".schema.json") for f in FORMS])
def test_no_two_fields_share_a_title(form):
    assert repeated_titles(json.loads(form.read_text(encoding="utf-8"))) == []


def test_the_check_finds_a_repeated_title():
    schema = {"type": "object", "properties": {"a": {"title": "结果"}, "b": {"title": "结果"}, "c": {"title": "其他"}}}
    assert repeated_titles(schema) == ["(form): '结果' labels 2 fields"]
