"""Fixtures for the staff pages: the API tests' app and town, signed-in browsers, a process.

``home_visit`` is a two-lane diagram: the head teacher's home visit (a form with every
widget kind) hands over to the village secretary's follow-up (no form).
"""
from __future__ import annotations

import json
import re

import pytest

from tests.api.conftest import app, as_user, client, town  # noqa: F401 - shared fixtures
from tests.api.town import PASSWORD

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')

HOME_VISIT_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
                  id="defs_home_visit" targetNamespace="http://baoxue.local/bpmn">
  <bpmn:collaboration id="collab_home_visit">
    <bpmn:participant id="p_home_visit" name="家访" processRef="home_visit"/>
  </bpmn:collaboration>
  <bpmn:process id="home_visit" name="家访劝返" isExecutable="true">
    <bpmn:laneSet id="lanes_home_visit">
      <bpmn:lane id="lane_ht" name="head_teacher">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>visit</bpmn:flowNodeRef>
      </bpmn:lane>
      <bpmn:lane id="lane_vs" name="village_secretary">
        <bpmn:flowNodeRef>follow_up</bpmn:flowNodeRef><bpmn:flowNodeRef>end</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="visit" name="班主任家访">
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="formJsonSchemaFilename" value="home_visit.schema.json"/>
          <spiffworkflow:property name="formUiSchemaFilename" value="home_visit.uischema.json"/>
          <spiffworkflow:property name="dueIn" value="&quot;P3D&quot;"/>
        </spiffworkflow:properties>
        <spiffworkflow:instructionsForEndUser>请在 **3 日内** 完成家访。&lt;script&gt;alert(1)&lt;/script&gt;</spiffworkflow:instructionsForEndUser>
      </bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:userTask id="follow_up" name="村书记跟进">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="visit"/>
    <bpmn:sequenceFlow id="f2" sourceRef="visit" targetRef="follow_up"/>
    <bpmn:sequenceFlow id="f3" sourceRef="follow_up" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>
"""

HOME_VISIT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "家访登记", "type": "object",
    "required": ["visited_on", "reason", "contacted", "family_size", "summary", "confirmed"],
    "properties": {
        "visited_on": {"type": "string", "format": "date", "title": "家访日期"},
        "reason": {"type": "string", "title": "辍学原因", "oneOf": [
            {"const": "study", "title": "厌学"}, {"const": "family", "title": "家庭困难"},
            {"const": "illness", "title": "疾病"}, {"const": "work", "title": "外出务工"},
            {"const": "other", "title": "其他"}]},
        "attitude": {"type": "string", "title": "家长态度", "enum": ["support", "neutral", "oppose"]},
        "contacted": {"type": "boolean", "title": "已联系家长"},
        "family_size": {"type": "integer", "title": "家庭人口", "minimum": 1, "maximum": 20},
        "distance_km": {"type": "number", "title": "离校距离（公里）", "minimum": 0},
        "supports": {"type": "array", "title": "已落实的帮扶", "uniqueItems": True,
                     "items": {"type": "string", "oneOf": [
                         {"const": "lunch", "title": "营养午餐"}, {"const": "subsidy", "title": "生活补助"},
                         {"const": "transport", "title": "交通帮扶"}]}},
        "summary": {"type": "string", "title": "家访情况", "minLength": 1, "maxLength": 500},
        "contact_name": {"type": "string", "title": "监护人姓名", "description": "与学生的关系请写在家访情况中"},
        "confirmed": {"type": "boolean", "const": True, "title": "以上情况属实"},
    },
    "additionalProperties": False,
}
HOME_VISIT_UI = {
    "ui:order": ["visited_on", "reason", "attitude", "contacted", "family_size", "distance_km", "supports",
                 "summary", "*", "confirmed"],
    "summary": {"ui:widget": "textarea", "ui:help": "写明见到谁、谈了什么"},
}


@pytest.fixture
def home_visit(town):
    """Deploy the home-visit process; returns a function starting a case for a child."""
    engine = town.extensions["baoxue.engine"]
    engine.repository.deploy({
        "home_visit.bpmn": HOME_VISIT_BPMN.encode(),
        "home_visit.schema.json": json.dumps(HOME_VISIT_SCHEMA, ensure_ascii=False).encode(),
        "home_visit.uischema.json": json.dumps(HOME_VISIT_UI, ensure_ascii=False).encode(),
    })

    def start(child_id: int = 1) -> str:
        """Start a case; returns the id of the head teacher's task it opened."""
        result = engine.runtime.start("home_visit", {"child_id": child_id})
        return result.next_tasks[0]["task_id"]
    return start


def csrf_token(browser, path: str = "/login") -> str:
    match = CSRF.search(browser.get(path).get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def sign_in(browser, username: str, password: str = PASSWORD, **extra):
    return browser.post("/login", data={"username": username, "password": password,
                                        "csrf_token": csrf_token(browser), **extra})


@pytest.fixture
def browser(town):
    """``browser("ht31")``: a test client (its own cookies) signed in as that user."""
    def open_as(username: str):
        client = town.test_client()
        response = sign_in(client, username)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client
    return open_as
