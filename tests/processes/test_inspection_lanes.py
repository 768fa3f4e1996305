"""Inspectors complete only inspection tasks (issue 13 "Access"): no diagram in processes/ other
than the inspection round puts a user task in the discipline_inspector lane, so the
inspectors' inbox never holds a case's work that they also inspect."""
from __future__ import annotations

from pathlib import Path

from lxml import etree

from ledger.inspection import PROCESSES

ROOT = Path(__file__).resolve().parents[2] / "processes"
NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}
INSPECTOR = "discipline_inspector"


def inspector_tasks(path: Path) -> list[tuple[str, str]]:
    """``[(process id, user task id)]`` of the user tasks the file puts in the inspector's lane."""
    doc = etree.parse(str(path))
    found = []
    for process in doc.iterfind(".//bpmn:process", NS):
        refs = {ref.text.strip() for lane in process.iterfind(".//bpmn:lane", NS) if lane.get("name") == INSPECTOR
                for ref in lane.iterfind("bpmn:flowNodeRef", NS)}
        found += [(process.get("id"), task.get("id")) for task in process.iterfind(".//bpmn:userTask", NS)
                  if task.get("id") in refs]
    return found


def test_only_the_inspection_round_gives_inspectors_tasks():
    elsewhere = [(path.name, *found) for path in sorted(ROOT.glob("*.bpmn"))
                 for found in inspector_tasks(path) if found[0] not in PROCESSES]
    assert elsewhere == []


def test_the_round_does_give_them_their_tasks():
    found = {task for path in sorted(ROOT.glob("inspection*.bpmn")) for _, task in inspector_tasks(path)}
    assert found == {"inspect_unit", "revise_notice", "verify_rectification", "prepare_summary"}


def test_the_check_finds_a_task_in_the_lane(tmp_path):
    bad = tmp_path / "bad.bpmn"
    bad.write_text(f'''<bpmn:definitions xmlns:bpmn="{NS['bpmn']}" id="d"><bpmn:process id="persuasion">
      <bpmn:laneSet id="ls"><bpmn:lane id="l" name="{INSPECTOR}"><bpmn:flowNodeRef>t</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
      <bpmn:userTask id="t"/></bpmn:process></bpmn:definitions>''', encoding="utf-8")
    assert inspector_tasks(bad) == [("persuasion", "t")]
