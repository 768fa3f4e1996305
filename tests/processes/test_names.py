"""The names staff read: every process and flow element of processes/*.bpmn is named in
Chinese (the pages, the inbox and the case history show these names; issue 17 "No English or
internal words on pages"). Lanes name roles by key and are not shown as written."""
from __future__ import annotations

import re
from xml.etree import ElementTree

import pytest

from api.settings import ROOT

BPMN_NS = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
SHOWN = {"process", "subProcess", "callActivity", "userTask", "manualTask", "scriptTask", "serviceTask",
         "sendTask", "receiveTask", "startEvent", "endEvent", "intermediateCatchEvent",
         "intermediateThrowEvent", "boundaryEvent", "exclusiveGateway", "parallelGateway",
         "inclusiveGateway", "eventBasedGateway", "sequenceFlow"}
LATIN = re.compile("[A-Za-z]")


@pytest.mark.parametrize("path", sorted((ROOT / "processes").glob("*.bpmn")), ids=lambda p: p.name)
def test_every_shown_name_is_chinese(path):
    latin = [f"{el.tag.removeprefix(BPMN_NS)} {el.get('id')}: {el.get('name')!r}"
             for el in ElementTree.parse(path).iter()
             if el.tag.removeprefix(BPMN_NS) in SHOWN and LATIN.search(el.get("name") or "")]
    assert latin == []
