"""The sandboxed script engine: real SpiffWorkflow runs, escape attempts, limits, data round trips."""
from __future__ import annotations

import threading
import time
from datetime import date, datetime, timedelta, timezone
from xml.sax.saxutils import escape

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

import engine.sandbox as sandbox
from engine.sandbox import (SandboxConfig, SandboxedEnvironment, SandboxError, check_compiles,
                            make_script_engine, shutdown_workers)

FAST = SandboxConfig(time_limit_s=0.5)
FUNCS = SandboxConfig(functions={'days_between': 'tests.engine.sandbox_funcs:days_between',
                                 'crash': 'tests.engine.sandbox_funcs:crash'})


@pytest.fixture(scope='module', autouse=True)
def _stop_workers():
    yield
    shutdown_workers()


@pytest.fixture
def env():
    return SandboxedEnvironment()


def assert_still_serving(env):
    """After any failure the next script runs normally (in a fresh worker if needed)."""
    data = {'n': 20}
    env.execute('n = n + 1', data)
    assert data == {'n': 21}
    assert SandboxedEnvironment().evaluate('n * 2', data) == 42


# ---- a real workflow ----------------------------------------------------------------------

def bpmn(body: str) -> bytes:
    return f'''<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs" targetNamespace="t">
  <bpmn:process id="p" isExecutable="true">{body}</bpmn:process>
</bpmn:definitions>'''.encode()


def script_task(task_id, script, incoming, outgoing):
    return (f'<bpmn:scriptTask id="{task_id}"><bpmn:incoming>{incoming}</bpmn:incoming>'
            f'<bpmn:outgoing>{outgoing}</bpmn:outgoing><bpmn:script>{escape(script)}</bpmn:script></bpmn:scriptTask>')


def flow(flow_id, source, target, condition=None):
    cond = (f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{escape(condition)}'
            '</bpmn:conditionExpression>') if condition else ''
    return f'<bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}">{cond}</bpmn:sequenceFlow>'


def approval_process(script: str) -> bytes:
    return bpmn(
        '<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>'
        + script_task('compute', script, 'f1', 'f2')
        + '<bpmn:exclusiveGateway id="gw" default="f_big"><bpmn:incoming>f2</bpmn:incoming>'
          '<bpmn:outgoing>f_small</bpmn:outgoing><bpmn:outgoing>f_big</bpmn:outgoing></bpmn:exclusiveGateway>'
        + script_task('small', "path = 'small'", 'f_small', 'f3')
        + script_task('big', "path = 'big'", 'f_big', 'f4')
        + '<bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>'
        + flow('f1', 'start', 'compute') + flow('f2', 'compute', 'gw')
        + flow('f_small', 'gw', 'small', 'approved and total < 100') + flow('f_big', 'gw', 'big')
        + flow('f3', 'small', 'end') + flow('f4', 'big', 'end'))


def start(xml: bytes, config=SandboxConfig(), **data) -> BpmnWorkflow:
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(xml, filename='p.bpmn')
    wf = BpmnWorkflow(parser.get_spec('p'), script_engine=make_script_engine(config))
    wf.task_tree.data.update(data)
    return wf


COMPUTE = '''total = 0
for a in amounts:
    total += a
labels = [f"#{i}: {a:.1f}" for i, a in enumerate(amounts, 1)]
by_size = {('big' if a > 30 else 'small'): a for a in sorted(amounts)}
approved = all(a > 0 for a in amounts) and len(amounts) <= 3
due = submitted + timedelta(days=3)
'''


@pytest.mark.parametrize('amounts, path', [([10, 20.5, 40], 'small'), ([100, 20], 'big')])
def test_workflow_runs_script_and_gateway_in_the_sandbox(amounts, path):
    submitted = datetime(2025, 3, 3, 9, 0, tzinfo=timezone.utc)
    wf = start(approval_process(COMPUTE), amounts=amounts, submitted=submitted)
    wf.do_engine_steps()
    assert wf.is_completed()
    data = wf.last_task.data
    assert data['total'] == sum(amounts) and data['path'] == path
    assert data['due'] == submitted + timedelta(days=3) and data['labels'][0] == f'#1: {amounts[0]:.1f}'
    done = {t.task_spec.bpmn_id for t in wf.get_tasks(state=TaskState.COMPLETED)}
    assert path in done and ({'small', 'big'} - {path}).isdisjoint(done)


def test_pre_and_post_scripts_run_in_the_sandbox():
    user_task = ('<bpmn:userTask id="review"><bpmn:extensionElements>'
                 '<spiffworkflow:preScript>greeting = f"Hello {name}"</spiffworkflow:preScript>'
                 '<spiffworkflow:postScript>answer = decision.upper()</spiffworkflow:postScript>'
                 '</bpmn:extensionElements><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>'
                 '</bpmn:userTask>')
    wf = start(bpmn('<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>' + user_task
                    + '<bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>'
                    + flow('f1', 'start', 'review') + flow('f2', 'review', 'end')), name='Li')
    wf.do_engine_steps()
    task = wf.get_next_task(state=TaskState.READY, manual=True)
    assert task.data['greeting'] == 'Hello Li'
    task.data['decision'] = 'yes'
    task.run()
    wf.do_engine_steps()
    assert wf.is_completed() and wf.last_task.data['answer'] == 'YES'


@pytest.mark.parametrize('script, line, kind', [
    ('a = 1\nb = 2\nc = missing + 1', 3, 'runtime'),
    ('a = 1\nb = (', 2, 'compile'),
    ('a = 1\nimport os', 2, 'forbidden'),
    ('def f(x):\n    return x / 0\n\ny = f(1)', 2, 'runtime'),
])
def test_failing_script_reports_its_line_through_spiffworkflow(script, line, kind):
    wf = start(approval_process(script), amounts=[1])
    with pytest.raises(WorkflowTaskException) as info:
        wf.do_engine_steps()
    assert info.value.line_number == line
    assert info.value.error_line == script.splitlines()[line - 1]
    assert isinstance(info.value.__cause__ or info.value.__context__, SandboxError)
    assert f'(line {line})' in str(info.value)
    assert wf.get_tasks(state=TaskState.ERROR)[0].task_spec.bpmn_id == 'compute'


def test_gateway_condition_error_is_wrapped_by_spiffworkflow():
    wf = start(approval_process('total = 5'), amounts=[1])  # `approved` never set
    with pytest.raises(WorkflowTaskException, match="Error evaluating expression"):
        wf.do_engine_steps()


# ---- escapes ------------------------------------------------------------------------------

ESCAPES = [  # (script, expected kind, expected fragment of the message)
    ('import os', 'forbidden', 'import statements are not allowed'),
    ('from os import path', 'forbidden', 'import statements are not allowed'),
    ("__import__('os')", 'forbidden', '"__import__" is an invalid variable name'),
    ("data = open('/etc/hostname').read()", 'forbidden', "'open' is not available"),
    ('().__class__.__base__.__subclasses__()', 'forbidden', '"__class__" is an invalid attribute name'),
    ("getattr(x, '__class__')", 'forbidden', 'access to attribute "__class__" is not allowed'),
    ("getattr(getattr, '__globals__')", 'forbidden', '"__globals__" is not allowed'),
    ('(lambda: 0).__globals__', 'forbidden', '"__globals__" is an invalid attribute name'),
    ("eval('1')", 'forbidden', 'Eval calls are not allowed'),
    ("exec('y = 1')", 'forbidden', 'Exec calls are not allowed'),
    ('y = compile("1", "f", "eval")', 'forbidden', "'compile' is not available"),
    ('y = globals()', 'forbidden', "'globals' is not available"),
    ('y = vars()', 'forbidden', "'vars' is not available"),
    ('type(x).__mro__', 'forbidden', '"__mro__" is an invalid attribute name'),
    ('y = type(x)', 'forbidden', "'type' is not available"),
    ('y = int.mro()', 'forbidden', 'access to attribute "mro" is not allowed'),
    ('g = (i for i in [1])\nf = g.gi_frame', 'forbidden', '"gi_frame" is a restricted name'),
    ("g = (i for i in [1])\nf = getattr(g, 'gi_frame')", 'forbidden', '"gi_frame" is not allowed'),
    ("y = '{0.__class__}'.format(1)", 'forbidden', 'access to attribute "format" is not allowed'),
    ("y = str.format('{0.__class__}', 1)", 'forbidden', 'access to attribute "format" is not allowed'),
    ("y = '{x.__class__}'.format_map({'x': 1})", 'forbidden', '"format_map" is not allowed'),
    ('class A:\n    pass', 'forbidden', 'class definitions are not allowed'),
    ('m = math', 'forbidden', "module 'math' cannot be stored in task data"),
]


@pytest.mark.parametrize('script, kind, fragment', ESCAPES, ids=[e[0] for e in ESCAPES])
def test_escape_attempt_is_refused_and_parent_keeps_serving(env, script, kind, fragment):
    data = {'x': 1}
    with pytest.raises(SandboxError) as info:
        env.execute(script, data)
    assert info.value.kind == kind and fragment in str(info.value)
    assert '\n' not in str(info.value) and data == {'x': 1}
    assert_still_serving(env)


def test_infinite_loop_hits_the_time_limit_then_the_next_script_works():
    env = SandboxedEnvironment(FAST)
    started = time.monotonic()
    with pytest.raises(SandboxError, match=r'^script exceeded the time limit of 0\.5 s$') as info:
        env.execute('while True:\n    pass', {})
    assert info.value.kind == 'timeout' and time.monotonic() - started < 2.0
    assert_still_serving(env)


def test_default_time_limit_message_for_expressions():
    with pytest.raises(SandboxError, match=r'^expression exceeded the time limit of 2\.0 s$'):
        SandboxedEnvironment().evaluate('sum(range(10**12))', {})


@pytest.mark.parametrize('script, kinds', [
    ("y = 'a' * 10**10", {'memory'}),
    ('y = [0] * 10**10', {'memory'}),
    ('y = 10**10**10', {'memory', 'timeout'}),
    ('y = []\nwhile True:\n    y.append(list(range(1000)))', {'memory', 'timeout'}),
])
def test_memory_bombs_are_bounded_then_the_next_script_works(script, kinds):
    env = SandboxedEnvironment(FAST)
    with pytest.raises(SandboxError) as info:
        env.execute(script, {})
    assert info.value.kind in kinds
    if info.value.kind == 'memory':
        assert str(info.value).startswith('script exceeded the memory limit of 512 MB')
    assert_still_serving(env)


def test_deep_recursion_is_a_runtime_error(env):
    with pytest.raises(SandboxError, match=r'^RecursionError: maximum recursion depth exceeded.*\(line 2\)$'):
        env.execute('def f(n):\n    return f(n + 1)\ny = f(0)', {})
    assert_still_serving(env)


def test_dead_worker_is_a_clear_error_and_is_replaced():
    env = SandboxedEnvironment(FUNCS)
    with pytest.raises(SandboxError, match=r'^sandbox worker died unexpectedly \(exit code 3\)$') as info:
        env.execute('crash()', {})
    assert info.value.kind == 'crashed'
    assert_still_serving(env)


def test_unimportable_function_is_a_clear_error():
    env = SandboxedEnvironment(SandboxConfig(functions={'f': 'tests.engine.no_such_module:f'}))
    with pytest.raises(SandboxError, match=r"^sandbox worker failed to start: ModuleNotFoundError") as info:
        env.evaluate('1', {})
    assert info.value.kind == 'crashed'


# ---- data ---------------------------------------------------------------------------------

def test_datetime_timedelta_date_round_trip(env):
    when = datetime(2025, 9, 1, 8, 30, tzinfo=timezone.utc)
    data = {'when': when, 'gap': timedelta(days=2, seconds=5), 'nested': {'at': [when]}}
    env.execute('later = when + gap\nday = later.date()\nnested["at"].append(later)\nweeks = gap * 7', data)
    assert data['later'] == when + timedelta(days=2, seconds=5) and data['day'] == date(2025, 9, 3)
    assert data['nested']['at'] == [when, data['later']] and data['weeks'] == timedelta(days=14, seconds=35)
    assert env.evaluate('when + timedelta(hours=1)', data) == when + timedelta(hours=1)  # a timer expression
    assert env.evaluate('"PT1H"', {}) == 'PT1H'


def test_datetime_methods_that_import_internally_work(env):
    data = {'dt': datetime(2025, 1, 2, 3, 4)}
    env.execute('a = f"{dt:%Y-%m-%d}"\nb = dt.strftime("%d/%m")\nc = datetime.strptime("2025-01-02", "%Y-%m-%d")', data)
    assert (data['a'], data['b'], data['c']) == ('2025-01-02', '02/01', datetime(2025, 1, 2))


def test_forged_registry_data_is_a_script_error(env):
    data = {'x': 1}
    with pytest.raises(SandboxError, match='cannot be restored') as info:
        env.execute("x = 2\ny = {'typename': 'datetime', 'value': 'not a date'}", data)
    assert info.value.kind == 'runtime' and data == {'x': 1}


def test_script_semantics_match_task_data_environment(env):
    data = {'keep': (1, 2), 'drop_me': 1, 'n': 1, 'tags': ['a']}
    env.execute('del drop_me\nn += 1\ntags.append("b")\ndef helper():\n    return 1\nh = helper()\n'
                'ids = {1, 2}\nsquare = lambda v: v * v', data)
    assert data == {'keep': (1, 2), 'n': 2, 'tags': ['a', 'b'], 'h': 1}  # no function, no set, no lambda


def test_external_context_is_visible_but_does_not_leak(env):
    data = {'a': 1}
    env.execute('b = a + limit\nlimit = 99', data, external_context={'limit': 10})
    assert data == {'a': 1, 'b': 11}
    assert env.evaluate('a + limit', data, {'limit': 5}) == 6
    with pytest.raises(ValueError, match='overwrites a predefined'):
        env.execute('c = 1', {'limit': 1}, external_context={'limit': 10})


def test_task_data_may_shadow_sandbox_names(env):
    data = {'type': 'transfer', 'date': '2025-09-01'}
    assert env.evaluate("type == 'transfer' and date.startswith('2025')", data) is True


def test_registered_functions_are_callable_from_scripts():
    env = SandboxedEnvironment(FUNCS)
    data = {'start': date(2025, 9, 1)}
    env.execute('n = days_between(start, date(2025, 9, 11))', data)
    assert data['n'] == 10 and 'days_between' not in data


def test_functions_see_the_settings_passed_to_the_worker_and_no_other(monkeypatch):
    """The worker inherits no environment (no secrets in the child): a setting reaches a
    function only through ``SandboxConfig.environment``, each set of settings its own worker."""
    monkeypatch.setenv('BAOXUE_SECRET_KEY', 'not-for-scripts')
    monkeypatch.setenv('BAOXUE_SOME_SETTING', 'from-the-parent')
    functions = {'setting': 'tests.engine.sandbox_funcs:setting'}
    ask = "[setting('BAOXUE_SOME_SETTING'), setting('BAOXUE_SECRET_KEY')]"
    assert SandboxedEnvironment(SandboxConfig(functions=functions)).evaluate(ask, {}) == [None, None]
    passed = SandboxConfig(functions=functions, environment={'BAOXUE_SOME_SETTING': '3'})
    assert SandboxedEnvironment(passed).evaluate(ask, {}) == ['3', None]
    other = SandboxConfig(functions=functions, environment={'BAOXUE_SOME_SETTING': '4'})
    assert SandboxedEnvironment(other).evaluate(ask, {}) == ['4', None]
    with pytest.raises(ValueError, match='environment'):
        SandboxConfig(environment={'A=B': '1'})


def test_check_compiles_is_a_pure_compile():
    assert check_compiles('x = 1\ny = [i for i in range(x)]') == []
    assert check_compiles('amount > 10 and approved', 'eval') == []
    assert check_compiles('\n   amount > 10\n', 'eval') == []  # indented XML text
    errors = check_compiles('x = 1\nimport os\ny = (')
    assert len(errors) == 1 and errors[0].startswith('Line 3: SyntaxError')
    assert check_compiles('x = 1\nimport os') == ['Line 2: import statements are not allowed in scripts.']
    assert check_compiles('x.__class__', 'eval')[0].startswith('Line 1: "__class__"')


# ---- threads and speed --------------------------------------------------------------------

def test_two_threads_run_scripts_concurrently():
    env, results, errors = SandboxedEnvironment(), {}, []

    def run(name):
        try:
            for i in range(50):
                data = {'i': i, 'who': name}
                env.execute('total = sum(range(i + 1))\nlabel = who + str(i)', data)
                assert data['total'] == i * (i + 1) // 2 and data['label'] == f'{name}{i}'
            results[name] = sandbox._worker_for(env.config)._state['proc'].pid  # this thread's worker
        except Exception as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=run, args=(n,)) for n in ('a', 'b')]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors and set(results) == {'a', 'b'}
    assert results['a'] != results['b']  # one worker process per thread


def test_round_trip_time(env):
    data = {'amount': 120, 'approved': True}
    for _ in range(50):
        env.evaluate('approved and amount > 100', data)
    samples = []
    for _ in range(2000):
        t0 = time.perf_counter()
        env.evaluate('approved and amount > 100', data)
        samples.append(time.perf_counter() - t0)
    samples.sort()
    print(f'\nsandbox evaluate round trip: median {samples[1000] * 1e6:.0f} us, '
          f'p99 {samples[1980] * 1e6:.0f} us, mean {sum(samples) / 2000 * 1e6:.0f} us')
