"""``make layout`` (processes/layout/layout.mjs) draws a process file and touches nothing else
(docs/processes.md "The drawing"): the engine parses these files, so the process must stay the
same bytes; and a second run changes nothing."""
from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from api.settings import ROOT
from tests.processes.test_diagram_interchange import missing_di

SCRIPT = ROOT / "processes" / "layout" / "layout.mjs"
DRAWING = re.compile(r"\n[ \t]*<bpmndi:BPMNDiagram\b.*?</bpmndi:BPMNDiagram>", re.S)
DECLARATION = re.compile(r'\s+xmlns:(bpmndi|dc|di)="[^"]*"')


def layout(*paths):
    if not (ROOT / "node_modules" / "bpmn-auto-layout").is_dir():
        pytest.fail("node_modules missing: run make install")
    node = shutil.which("node") or pytest.fail("Node.js is required (make install)")
    return subprocess.run([node, str(SCRIPT), *map(str, paths)], cwd=ROOT, capture_output=True, text=True, timeout=300)


def without_drawing(text: str) -> str:
    return DECLARATION.sub("", DRAWING.sub("", text))


# persuasion: lanes, sub-processes, boundary events, data objects; home_teaching: no
# incoming/outgoing lists, nested sub-processes; agreement_person: a pool without lanes.
@pytest.mark.parametrize("name", ["persuasion.bpmn", "home_teaching.bpmn", "agreement_person.bpmn"])
def test_a_file_without_its_drawing_is_drawn_again_and_nothing_else_changes(tmp_path, name):
    committed = (ROOT / "processes" / name).read_text(encoding="utf-8")
    bare = without_drawing(committed)
    path = tmp_path / name
    path.write_text(bare, encoding="utf-8")

    run = layout(path)
    assert run.returncode == 0, run.stderr
    drawn = path.read_text(encoding="utf-8")
    assert missing_di(path) == []
    assert without_drawing(drawn) == bare

    again = layout(path)
    assert again.returncode == 0 and "unchanged" in again.stdout
    assert path.read_text(encoding="utf-8") == drawn


def test_a_file_it_cannot_draw_is_named_and_the_run_fails(tmp_path):
    path = tmp_path / "two.bpmn"
    path.write_text("""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x">
  <bpmn:process id="a" isExecutable="true"><bpmn:startEvent id="s"/></bpmn:process>
</bpmn:definitions>
""", encoding="utf-8")
    run = layout(path)
    assert run.returncode == 1
    assert "two.bpmn: a: no participant in a collaboration refers to the process" in run.stderr
    assert "BPMNDiagram" not in path.read_text(encoding="utf-8")
