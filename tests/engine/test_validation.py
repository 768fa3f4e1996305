"""Deploy validation: a township's absence follow-up diagram, and every way it can be wrong.

Each bad-input test changes one thing in a valid two-lane diagram and checks that the deploy
is refused with an error naming the file, the element, its line and what to do.
"""

from __future__ import annotations

import collections
import re
import time
from pathlib import Path

import pytest
from RestrictedPython import compile_restricted_eval, compile_restricted_exec
from RestrictedPython.transformer import RestrictingNodeTransformer
from SpiffWorkflow.bpmn import BpmnWorkflow

from engine.definitions import (DeployError, DeployValidationError, build_parser, load_specs,
                                validate_bundle)

FIXTURES = Path(__file__).parent / 'fixtures' / 'validation'
CORPUS = Path('/work/shared/corpus/spiffworkflow')
ROLES = {'head_teacher', 'village_secretary', 'principal'}
FILE = 'followup.bpmn'


class _NoImports(RestrictingNodeTransformer):
    """Stand-in for the sandbox's policy: RestrictedPython itself compiles ``import os``
    (imports are only guarded at run time), the sandbox refuses them at compile time."""

    def visit_Import(self, node):
        self.error(node, 'import statements are not allowed')
        return node

    visit_ImportFrom = visit_Import


def check_compiles(source: str, mode: str = 'exec') -> list[str]:
    compile_ = compile_restricted_exec if mode == 'exec' else compile_restricted_eval
    return list(compile_(source, policy=_NoImports).errors)


VALID = '''<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
                  id="defs" targetNamespace="http://baoxue.example/bpmn">
  <bpmn:process id="absence_followup" name="Absence follow-up" isExecutable="true">
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="lane_teacher" name="head_teacher">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>report</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>decide</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>done</bpmn:flowNodeRef>
      </bpmn:lane>
      <bpmn:lane id="lane_village" name="village_secretary">
        <bpmn:flowNodeRef>visit</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>visit_overdue</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>escalated</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>record</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f_start" sourceRef="start" targetRef="report"/>
    <bpmn:userTask id="report" name="Report absence">
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="formJsonSchemaFilename" value="report-schema.json"/>
          <spiffworkflow:property name="formUiSchemaFilename" value="report-uischema.json"/>
        </spiffworkflow:properties>
        <spiffworkflow:preScript>visits = 0</spiffworkflow:preScript>
        <spiffworkflow:postScript>needs_visit = absent_days &gt;= 3</spiffworkflow:postScript>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f_report" sourceRef="report" targetRef="decide"/>
    <bpmn:exclusiveGateway id="decide" default="f_no_visit"/>
    <bpmn:sequenceFlow id="f_visit" sourceRef="decide" targetRef="visit">
      <bpmn:conditionExpression>needs_visit == True</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_no_visit" sourceRef="decide" targetRef="done"/>
    <bpmn:userTask id="visit" name="Home visit">
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="formJsonSchemaFilename" value="visit-schema.json"/>
        </spiffworkflow:properties>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:boundaryEvent id="visit_overdue" name="3 days" attachedToRef="visit" cancelActivity="false">
      <bpmn:timerEventDefinition id="visit_timer">
        <bpmn:timeDuration>"P3D"</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f_overdue" sourceRef="visit_overdue" targetRef="escalated"/>
    <bpmn:endEvent id="escalated"/>
    <bpmn:sequenceFlow id="f_visit_done" sourceRef="visit" targetRef="record"/>
    <bpmn:scriptTask id="record" name="Record visit">
      <bpmn:script>visits = visits + 1</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f_record" sourceRef="record" targetRef="done"/>
    <bpmn:endEvent id="done"/>
  </bpmn:process>
</bpmn:definitions>
'''

VISIT_SCHEMA = b'{"type": "object", "properties": {"met_guardian": {"type": "boolean"}}}'


def line_of(text: str, needle: str) -> int:
    """1-based line of the first occurrence of ``needle`` in ``text``."""
    index = text.index(needle)
    return text.count('\n', 0, index) + 1


def edit(old: str, new: str, text: str = VALID) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def deploy(xml: str | bytes = VALID, *, extra: dict | None = None, **kwargs):
    files = {FILE: xml.encode() if isinstance(xml, str) else xml, 'visit-schema.json': VISIT_SCHEMA}
    files.update(extra or {})
    kwargs.setdefault('known_roles', ROLES)
    kwargs.setdefault('form_dirs', [FIXTURES])
    kwargs.setdefault('check_compiles', check_compiles)
    return validate_bundle(files, **kwargs)


def the_error(bundle) -> DeployError:
    """The single error of a refused deploy, checked to be readable."""
    assert len(bundle.errors) == 1, [str(e) for e in bundle.errors]
    error = bundle.errors[0]
    assert 'Traceback' not in error.message and error.message.strip()
    return error


def assert_error(bundle, element_id: str, line: int, *fragments: str, file: str = FILE):
    error = the_error(bundle)
    assert (error.file, error.element_id, error.line) == (file, element_id, line), str(error)
    for fragment in fragments:
        assert fragment in error.message, error.message
    return error


# ---- the valid diagram ----------------------------------------------------------------------
def test_valid_two_lane_process_with_forms_and_timer_passes():
    bundle = deploy()
    assert bundle.errors == []
    assert set(bundle.files) == {FILE, 'visit-schema.json', 'report-schema.json', 'report-uischema.json'}
    assert bundle.files['report-schema.json'] == (FIXTURES / 'report-schema.json').read_bytes()
    info = bundle.processes['absence_followup']
    assert (info.name, info.file, info.start_kinds) == ('Absence follow-up', FILE, frozenset({'none'}))
    assert info.timer_start is None and info.message_start_names == ()

    spec, subprocesses = load_specs(bundle.files, 'absence_followup')
    workflow = BpmnWorkflow(spec, subprocesses)
    workflow.do_engine_steps()
    ready = [t.task_spec.bpmn_id for t in workflow.get_tasks() if t.task_spec.manual and t.state == 16]
    assert ready == ['report']
    assert build_parser(bundle.files).get_process_ids() == ['absence_followup']


def test_start_kinds_timer_and_message_starts_are_reported():
    xml = '''<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:message id="msg_returned" name="child_returned"/>
  <bpmn:process id="monthly_census" isExecutable="true">
    <bpmn:startEvent id="every_month">
      <bpmn:timerEventDefinition><bpmn:timeCycle>"R/2025-09-01T08:00:00+08:00/P1M"</bpmn:timeCycle></bpmn:timerEventDefinition>
    </bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="every_month" targetRef="e1"/>
    <bpmn:endEvent id="e1"/>
  </bpmn:process>
  <bpmn:process id="return_case" isExecutable="true">
    <bpmn:startEvent id="returned"><bpmn:messageEventDefinition messageRef="msg_returned"/></bpmn:startEvent>
    <bpmn:startEvent id="by_hand"/>
    <bpmn:sequenceFlow id="f2" sourceRef="returned" targetRef="e2"/>
    <bpmn:sequenceFlow id="f3" sourceRef="by_hand" targetRef="e2"/>
    <bpmn:endEvent id="e2"/>
  </bpmn:process>
  <bpmn:process id="old_draft" isExecutable="false"/>
</bpmn:definitions>'''
    bundle = validate_bundle({'starts.bpmn': xml.encode()}, check_compiles=check_compiles)
    assert bundle.errors == []
    assert set(bundle.processes) == {'monthly_census', 'return_case'}   # non-executable skipped
    census, case = bundle.processes['monthly_census'], bundle.processes['return_case']
    assert census.start_kinds == {'timer'} and census.timer_start == '"R/2025-09-01T08:00:00+08:00/P1M"'
    assert case.start_kinds == {'message', 'none'} and case.message_start_names == ('child_returned',)


# ---- files and XML safety -------------------------------------------------------------------
def test_malformed_xml_reports_the_line():
    xml = edit('<bpmn:endEvent id="done"/>', '<bpmn:endEvent id="done">')
    error = the_error(deploy(xml))
    assert (error.file, error.element_id) == (FILE, None)
    assert error.line == line_of(xml, '</bpmn:process>')
    assert error.message.startswith('malformed XML:') and 'endEvent' in error.message


def test_dtd_is_refused():
    xml = edit('<bpmn:definitions', '<!DOCTYPE bpmn:definitions>\n<bpmn:definitions')
    error = the_error(deploy(xml))
    assert (error.file, error.element_id, error.line) == (FILE, None, 2)
    assert 'DOCTYPE' in error.message and 'refused' in error.message


def test_xxe_is_refused_without_reading_the_file():
    xml = edit('<bpmn:definitions', '<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n<bpmn:definitions')
    xml = edit('visits = 0', '&xxe;', xml)
    error = the_error(deploy(xml))
    assert (error.file, error.line) == (FILE, 2)
    assert 'DOCTYPE' in error.message and 'root:' not in error.message


def test_billion_laughs_is_refused_without_expansion():
    lol = ['<!ENTITY lol "lol">'] + [f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 or "")) * 10}">' for i in range(1, 10)]
    xml = edit('<bpmn:definitions', '<!DOCTYPE lolz [' + ''.join(lol) + ']>\n<bpmn:definitions')
    xml = edit('visits = 0', '&lol9;', xml)
    started = time.monotonic()
    error = the_error(deploy(xml))
    assert time.monotonic() - started < 2
    assert (error.file, error.line) == (FILE, 2) and 'DOCTYPE' in error.message
    assert 'lollol' not in error.message


@pytest.mark.parametrize('name, data, fragment', [
    ('empty.bpmn', b'', 'empty'),
    ('latin1.bpmn', VALID.replace('Home visit', 'Visite \xe0 domicile').encode('latin-1'), 'UTF-8'),
    ('notes.txt', b'hello', 'unknown file type'),
    ('broken-form.json', b'{"type": ', 'not valid JSON'),
])
def test_unreadable_files_are_refused(name, data, fragment):
    bundle = deploy(extra={name: data})
    error = [e for e in bundle.errors if e.file == name]
    assert len(error) == 1 and fragment in error[0].message, bundle.errors


def test_xsd_violation_is_mapped_to_the_element_and_line():
    xml = edit('<bpmn:userTask id="visit" name="Home visit">',
               '<bpmn:userTask id="visit" name="Home visit" priority="high">')
    assert_error(deploy(xml), 'visit', line_of(xml, 'id="visit"'), 'XML Schema', "'priority'")


# ---- structure (SpiffWorkflow parse) --------------------------------------------------------
def test_process_without_start_event():
    xml = edit('<bpmn:startEvent id="start"/>\n', '')
    xml = edit('<bpmn:sequenceFlow id="f_start" sourceRef="start" targetRef="report"/>\n', '', xml)
    assert_error(deploy(xml), 'absence_followup', line_of(xml, '<bpmn:process'), 'no start event')


def test_dangling_flow_target_names_the_missing_target():
    xml = edit('targetRef="decide"', 'targetRef="decide_typo"')
    error = assert_error(deploy(xml), 'f_report', line_of(xml, 'id="f_report"'), '"decide_typo"',
                         'no element has that id')
    assert 'found two items' not in error.message


CALLING = edit('''    <bpmn:scriptTask id="record" name="Record visit">
      <bpmn:script>visits = visits + 1</bpmn:script>
    </bpmn:scriptTask>''', '    <bpmn:callActivity id="record" name="Record visit" calledElement="record_visit"/>')


def test_missing_called_process_names_the_call_activity():
    assert_error(deploy(CALLING), 'record', line_of(CALLING, 'id="record"'), '"record_visit"',
                 'not defined in this deploy')


def _process(pid: str, body: str = '') -> str:
    return f'''<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d_{pid}" targetNamespace="t">
  <bpmn:process id="{pid}" isExecutable="true">
    <bpmn:startEvent id="{pid}_start"/>
    <bpmn:sequenceFlow id="{pid}_f1" sourceRef="{pid}_start" targetRef="{pid}_work"/>
    {body or f'<bpmn:task id="{pid}_work"/>'}
    <bpmn:sequenceFlow id="{pid}_f2" sourceRef="{pid}_work" targetRef="{pid}_end"/>
    <bpmn:endEvent id="{pid}_end"/>
  </bpmn:process>
</bpmn:definitions>'''


def test_called_process_is_pulled_from_the_search_path_transitively(tmp_path):
    (tmp_path / 'record_visit.bpmn').write_text(
        _process('record_visit', '<bpmn:callActivity id="record_visit_work" calledElement="notify_school"/>'))
    (tmp_path / 'notify_school.bpmn').write_text(_process('notify_school'))
    (tmp_path / 'unrelated.bpmn').write_text(_process('unrelated'))
    bundle = deploy(CALLING, search_path=[tmp_path])
    assert bundle.errors == []
    assert {'record_visit.bpmn', 'notify_school.bpmn'} <= set(bundle.files)
    assert 'unrelated.bpmn' not in bundle.files
    assert set(bundle.processes) == {'absence_followup'}     # pulled-in processes are not listed
    spec, subprocesses = load_specs(bundle.files, 'absence_followup')
    assert spec.name == 'absence_followup' and set(subprocesses) == {'record_visit', 'notify_school'}


def test_load_specs_refuses_when_a_called_process_is_missing():
    with pytest.raises(DeployValidationError) as raised:
        load_specs({FILE: CALLING.encode()}, 'absence_followup')
    assert [(e.element_id, e.line) for e in raised.value.errors] == [('record', line_of(CALLING, 'id="record"'))]
    assert 'record_visit' in str(raised.value)


def test_duplicate_process_id_across_files():
    other = _process('absence_followup')
    bundle = deploy(extra={'copy.bpmn': other.encode()})
    assert_error(bundle, 'absence_followup', line_of(other, '<bpmn:process'),
                 'already defined in followup.bpmn', file='copy.bpmn')


def test_only_non_executable_processes_is_an_error():
    xml = edit('isExecutable="true"', 'isExecutable="false"')
    error = the_error(deploy(xml))
    assert error.file == FILE and 'no executable process' in error.message


def test_references_spiffworkflow_would_drop_silently():
    xml = edit('attachedToRef="visit"', 'attachedToRef="visiit"')
    xml = edit('default="f_no_visit"', 'default="f_none"', xml)
    errors = {e.element_id: e for e in deploy(xml).errors}
    # f_no_visit: SpiffWorkflow's own complaint, a non-default flow without condition.
    assert set(errors) == {'visit_overdue', 'decide', 'f_no_visit'}
    assert errors['visit_overdue'].line == TIMER_LINE and '"visiit"' in errors['visit_overdue'].message
    assert errors['decide'].line == line_of(xml, 'id="decide"') and '"f_none"' in errors['decide'].message


def test_non_executable_pool_is_not_checked():
    sketch = '''  <bpmn:process id="guardian_side" isExecutable="false">
    <bpmn:laneSet id="guardian_lanes"><bpmn:lane id="guardian_lane" name="guardian"/></bpmn:laneSet>
    <bpmn:scriptTask id="sketch"><bpmn:script>to be decided</bpmn:script></bpmn:scriptTask>
  </bpmn:process>
</bpmn:definitions>'''
    assert deploy(edit('</bpmn:definitions>', sketch)).errors == []


def test_build_parser_refuses_unsafe_or_invalid_files():
    with pytest.raises(DeployValidationError) as raised:
        build_parser({FILE: edit('<bpmn:definitions', '<!DOCTYPE x>\n<bpmn:definitions').encode()})
    assert raised.value.errors[0].to_dict() == {
        'file': FILE, 'element_id': None, 'line': 2, 'message': raised.value.errors[0].message}
    assert 'DOCTYPE' in str(raised.value)


# ---- lanes ----------------------------------------------------------------------------------
def test_lane_with_unknown_role():
    bundle = deploy(known_roles={'head_teacher', 'principal'})
    assert_error(bundle, 'lane_village', line_of(VALID, 'id="lane_village"'),
                 '"village_secretary" is not a known role code')


def test_lane_without_name():
    xml = edit('<bpmn:lane id="lane_village" name="village_secretary">', '<bpmn:lane id="lane_village">')
    assert_error(deploy(xml), 'lane_village', line_of(xml, 'id="lane_village"'), 'has no name',
                 'role code')


def test_lanes_are_not_checked_without_known_roles():
    assert deploy(known_roles=None).errors == []


# ---- forms ----------------------------------------------------------------------------------
VISIT_LINE = line_of(VALID, 'id="visit"')


def test_missing_form_file():
    bundle = validate_bundle({FILE: VALID.encode()}, known_roles=ROLES, form_dirs=[FIXTURES],
                             check_compiles=check_compiles)
    assert_error(bundle, 'visit', VISIT_LINE, '"visit-schema.json"', 'not found')


def test_form_that_is_not_json():
    bundle = deploy(extra={'visit-schema.json': b'{"type": "object",}'})
    # The form file itself is refused, and so is the task that uses it.
    by_file = {e.file: e for e in bundle.errors}
    assert len(bundle.errors) == 2 and set(by_file) == {'visit-schema.json', FILE}
    assert by_file['visit-schema.json'].line == 1
    error = by_file[FILE]
    assert (error.element_id, error.line) == ('visit', VISIT_LINE)
    assert '"visit-schema.json"' in error.message and 'not valid JSON' in error.message


def test_form_that_is_not_a_valid_json_schema():
    bundle = deploy(extra={'visit-schema.json': b'{"type": "objekt"}'})
    assert_error(bundle, 'visit', VISIT_LINE, 'not a valid JSON Schema', "'objekt'", '$.type')


def test_form_name_cannot_leave_the_form_folder():
    xml = edit('value="visit-schema.json"', 'value="../../../etc/passwd"')
    assert_error(deploy(xml), 'visit', VISIT_LINE, 'plain file name')


# ---- timers ---------------------------------------------------------------------------------
TIMER_LINE = line_of(VALID, 'id="visit_overdue"')


def test_unquoted_timer_duration():
    xml = edit('<bpmn:timeDuration>"P3D"</bpmn:timeDuration>', '<bpmn:timeDuration>P3D</bpmn:timeDuration>')
    assert_error(deploy(xml), 'visit_overdue', TIMER_LINE,
                 'timer expression P3D is evaluated as Python: write "P3D" (quoted)')


def test_invalid_iso_duration():
    xml = edit('"P3D"', '"P3X"')
    assert_error(deploy(xml), 'visit_overdue', TIMER_LINE, '"P3X" is not a valid ISO 8601 duration')


def test_date_without_utc_offset():
    xml = edit('<bpmn:timeDuration>"P3D"</bpmn:timeDuration>',
               '<bpmn:timeDate>"2025-09-01T08:00:00"</bpmn:timeDate>')
    assert_error(deploy(xml), 'visit_overdue', TIMER_LINE, 'no UTC offset', '+08:00')
    fixed = edit('"2025-09-01T08:00:00"', '"2025-09-01T08:00:00+08:00"', xml)
    assert deploy(fixed).errors == []


def test_timer_over_a_variable_must_compile():
    assert deploy(edit('"P3D"', 'visit_deadline')).errors == []
    xml = edit('"P3D"', 'visit_deadline +')
    assert_error(deploy(xml), 'visit_overdue', TIMER_LINE, 'does not compile', 'SyntaxError')


# ---- scripts and expressions ----------------------------------------------------------------
RECORD_LINE = line_of(VALID, 'id="record"')


@pytest.mark.parametrize('script, fragment', [
    ('visits = (visits + 1', 'SyntaxError'),
    ('import os', 'import statements are not allowed'),
    ('x = ().__class__', '"__class__" is an invalid attribute name'),
])
def test_script_task_that_does_not_compile(script, fragment):
    xml = edit('visits = visits + 1', script)
    assert_error(deploy(xml), 'record', RECORD_LINE, 'scriptTask "Record visit" (record): script does not compile', fragment)


def test_condition_syntax_error():
    xml = edit('needs_visit == True', 'needs_visit ==')
    assert_error(deploy(xml), 'f_visit', line_of(xml, 'id="f_visit"'), 'condition does not compile', 'SyntaxError')


def test_prescript_error():
    xml = edit('visits = 0', 'visits = = 0')
    assert_error(deploy(xml), 'report', line_of(xml, 'id="report"'), 'preScript does not compile')


def test_all_errors_are_collected():
    xml = edit('visits = 0', 'visits = = 0')
    xml = edit('needs_visit == True', 'needs_visit ==', xml)
    xml = edit('"P3D"', 'P3D', xml)
    bundle = deploy(xml, known_roles={'head_teacher'})
    assert [e.element_id for e in bundle.errors] == ['lane_village', 'report', 'f_visit', 'visit_overdue']
    assert all(isinstance(e.to_dict()['message'], str) for e in bundle.errors)


# ---- DMN ------------------------------------------------------------------------------------
DMN = '''<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="risk_defs" name="risk" namespace="http://baoxue.example/dmn">
  <decision id="risk_level" name="Risk level">
    <decisionTable id="risk_table">
      <input id="in_days" label="Absent days">
        <inputExpression id="in_days_expr" typeRef="integer"><text>absent_days</text></inputExpression>
      </input>
      <output id="out_level" name="risk" typeRef="string"/>
      <rule id="rule_high">
        <inputEntry id="rule_high_in"><text>&gt;= 3</text></inputEntry>
        <outputEntry id="rule_high_out"><text>"high"</text></outputEntry>
      </rule>
      <rule id="rule_low">
        <inputEntry id="rule_low_in"><text>-</text></inputEntry>
        <outputEntry id="rule_low_out"><text>"low"</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
</definitions>'''

WITH_RULE = edit('''    <bpmn:scriptTask id="record" name="Record visit">
      <bpmn:script>visits = visits + 1</bpmn:script>
    </bpmn:scriptTask>''', '''    <bpmn:businessRuleTask id="record" name="Assess risk">
      <bpmn:extensionElements>
        <spiffworkflow:calledDecisionId>risk_level</spiffworkflow:calledDecisionId>
      </bpmn:extensionElements>
    </bpmn:businessRuleTask>''')


def test_dmn_decision_used_by_a_business_rule_task():
    assert deploy(WITH_RULE, extra={'risk.dmn': DMN.encode()}).errors == []
    assert_error(deploy(WITH_RULE), 'record', line_of(WITH_RULE, 'id="record"'), '"risk_level"',
                 'no DMN file')


def test_dmn_output_entry_that_does_not_compile():
    dmn = edit('<text>"high"</text>', '<text>"high</text>', DMN)
    dmn = edit('<text>&gt;= 3</text>', '<text>&gt;= = 3</text>', dmn)
    bundle = deploy(WITH_RULE, extra={'risk.dmn': dmn.encode()})
    by_element = {e.element_id: e for e in bundle.errors}
    assert set(by_element) == {'record', 'rule_high_out', 'rule_high_in'}, bundle.errors
    output, entry = by_element['rule_high_out'], by_element['rule_high_in']
    assert (output.file, output.line) == ('risk.dmn', line_of(dmn, 'id="rule_high_out"'))
    assert 'Malformed Output Expression' in output.message
    assert (entry.file, entry.line) == ('risk.dmn', line_of(dmn, 'id="rule_high_in"'))
    assert "input entry '>= = 3' does not compile" in entry.message
    # The business rule task is told why its decision is missing.
    assert 'risk.dmn has errors' in by_element['record'].message


# ---- the SpiffWorkflow corpus ---------------------------------------------------------------
def test_corpus_never_raises_and_reports_deploy_errors(capsys):
    paths = sorted([*CORPUS.rglob('*.bpmn'), *CORPUS.rglob('*.dmn')])
    if not paths:
        pytest.skip('corpus not available')
    accepted, refused, reasons = 0, 0, collections.Counter()
    for path in paths:
        bundle = validate_bundle({path.name: path.read_bytes()}, search_path=[path.parent],
                                 form_dirs=[path.parent], known_roles=None, check_compiles=check_compiles)
        for error in bundle.errors:
            assert isinstance(error, DeployError) and error.message.strip()
            assert 'Traceback' not in error.message and not error.message.startswith('internal error')
            assert error.file is None or error.file in bundle.files or error.file == path.name
        if bundle.errors:
            refused += 1
            # Group by message shape: drop quoted names, ids in parentheses and line numbers.
            reasons.update({' '.join(re.sub(r'"[^"]*"|\([^)]*\)|\d+', '_', e.message).split()[:9])
                            for e in bundle.errors})
        else:
            accepted += 1
    with capsys.disabled():
        print(f'\ncorpus: {accepted} accepted, {refused} refused of {len(paths)}')
        for reason, count in reasons.most_common(8):
            print(f'  {count:3} x {reason} ...')
    assert accepted > refused


DUE_PROCESS = (Path(__file__).resolve().parents[2] / "processes" / "dropout_risk_check.bpmn").read_text()
FORMS_DIR = Path(__file__).resolve().parents[2] / "forms"


@pytest.mark.parametrize("old, new, element, fragment", [
    ('value="school"', 'value="schol"', "assess_risk", 'dueDays "schol" must be one of'),
    ('&quot;P1D&quot;', 'P1D', "assess_risk", 'write "P1D" (quoted)'),
    ('&quot;P3D&quot;', '&quot;P3X&quot;', "home_check", "not a valid ISO 8601 duration"),
    ('&quot;P3D&quot;', '&quot;P1M&quot;', "home_check", "counts working days"),
    ('&quot;P3D&quot;', '&quot;2025-13-01&quot;', "home_check", "neither an ISO 8601 duration"),
    ('&quot;P3D&quot;', 'import os', "home_check", "does not compile"),
])
def test_due_date_properties_are_checked_at_deploy(old, new, element, fragment):
    bundle = validate_bundle({"d.bpmn": DUE_PROCESS.replace(old, new, 1).encode()},
                             check_compiles=check_compiles, form_dirs=[FORMS_DIR])
    (error,) = bundle.errors
    assert error.element_id == element and fragment in error.message and error.line > 0


def test_due_date_expressions_and_hours_are_accepted():
    for new in ('deadline', '&quot;PT8H&quot;', '&quot;2025-10-20&quot;'):
        bundle = validate_bundle({"d.bpmn": DUE_PROCESS.replace('&quot;P3D&quot;', new, 1).encode()},
                                 check_compiles=check_compiles, form_dirs=[FORMS_DIR])
        assert bundle.errors == [], new


def test_an_endless_sub_minute_cycle_is_refused_but_a_counted_one_is_not():
    for value, refused in (('"R/PT1S"', True), ('"R3/PT1S"', False), ('"R/PT5M"', False)):
        registry = (FORMS_DIR.parent / "processes" / "registry_restoration.bpmn").read_text()
        registry = registry.replace('name="dueDays" value="school"', 'name="dueDays" value="calendar"')
        bundle = validate_bundle({"d.bpmn": registry.replace(
            '<bpmn:timeDuration>"P3D"</bpmn:timeDuration>', f'<bpmn:timeCycle>{value}</bpmn:timeCycle>').encode()},
            check_compiles=check_compiles, form_dirs=[FORMS_DIR])
        assert bool(bundle.errors) == refused, (value, bundle.errors)


def test_a_subprocess_in_a_lane_would_hide_its_tasks_lanes():
    persuasion = (FORMS_DIR.parent / "processes" / "persuasion.bpmn").read_text()
    assert validate_bundle({"p.bpmn": persuasion.encode()}, check_compiles=check_compiles, form_dirs=[FORMS_DIR],
                           search_path=[FORMS_DIR.parent / "processes"]).errors == []
    in_lane = persuasion.replace('<bpmn:flowNodeRef>start</bpmn:flowNodeRef>',
                                 '<bpmn:flowNodeRef>start</bpmn:flowNodeRef>\n        <bpmn:flowNodeRef>persuade</bpmn:flowNodeRef>', 1)
    errors = validate_bundle({"p.bpmn": in_lane.encode()}, check_compiles=check_compiles, form_dirs=[FORMS_DIR],
                             search_path=[FORMS_DIR.parent / "processes"]).errors
    assert "village_check" in {e.element_id for e in errors}
    error = next(e for e in errors if e.element_id == "village_check")
    assert 'lane "village_secretary"' in error.message and 'lane "head_teacher"' in error.message and error.line > 0
    assert "phone_call" not in {e.element_id for e in errors}      # same lane as the subprocess: harmless
