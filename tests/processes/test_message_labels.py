"""Every message a diagram names has Chinese words on pages (issue 12 review M5, issue 17):
``ledger.message_names`` labels each one, and what a case waits for reads in Chinese."""
from __future__ import annotations

import re
from pathlib import Path

from api.casehistory import waiting_for
from ledger.message_names import MESSAGE_NAMES, message_label

from .agreements_case import launch, sign_unit

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
HAN = re.compile(r"[\u4e00-\u9fff]")


def _message_names() -> set[str]:
    found = set()
    for path in PROCESSES.glob("*.bpmn"):
        found |= set(re.findall(r'<bpmn:message\s[^>]*name="([^"]+)"', path.read_text(encoding="utf-8")))
    return found


def test_every_message_in_processes_has_a_chinese_label():
    names = _message_names()
    assert {"agreement_parties", "agreement_withdrawn", "excused_day"} <= names   # the scan finds them
    missing = sorted(name for name in names if name not in MESSAGE_NAMES)
    assert missing == []
    assert all(HAN.search(MESSAGE_NAMES[name]) and not re.search(r"[A-Za-z_]", MESSAGE_NAMES[name]) for name in names)
    assert message_label("no_such_message") == "未命名的消息"


def test_a_campaign_waiting_for_its_parties_says_so_in_chinese(scenario):
    town = scenario
    launch(town)
    sign_unit(town, "zx")              # its head teachers' signings wait for agreement_withdrawn
    instance_id = town.task("pfg", "sign_unit")["instance_id"]
    waits = waiting_for(town.engine, instance_id)
    assert any("人员离岗，签订撤回" in text for text in waits), waits
    assert not any(re.search(r"agreement_|excused_day|[a-z]{4,}", text) for text in waits), waits
