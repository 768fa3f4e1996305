"""The case list: one SQL query per figure, scoped by ``access.case_scope``, a page at a time.

Nothing is loaded into Python but the page shown (at most ``MAX_PER_PAGE`` cases) and the
counts: a county's hundred thousand cases are filtered, counted and sorted in the database
(issue 18: the cost of a page must not follow the number of cases).

A case's list status is derived from the engine's stored one: ``active`` is ``running``
when a person has an open task of it or the worker has steps of it left, else ``waiting``
(for a timer or a message); ``suspended`` (an administrator paused it: engine.lifecycle),
``completed``, ``error`` and ``terminated`` as stored.
"""
from __future__ import annotations

from sqlalchemy import and_, case, distinct, exists, func, literal, or_, select

from engine.persistence.models import HumanTask, ProcessDefinition, ProcessInstance

from .. import access
from ..case_children import cases_of_children, children_of_cases
from ..case_outcomes import outcome_label
from ..directory import subtree, unit_names
from ..form_choices import display_names
from ..models import Child, OrgUnit
from ..privacy import mask_name
from ..status_models import CaseEventRecord
from .filters import STATUSES, CaseFilter, day_bounds, like_pattern

CLOSED = ("completed", "terminated")
LOGGED_IDS = 500        # an export logs the ids of at most this many cases (and their count)


def _has_open_task():
    return exists().where(HumanTask.instance_id == ProcessInstance.id, HumanTask.status == "open")


def _running():
    return and_(ProcessInstance.status == "active",
                or_(ProcessInstance.pending_steps.is_not(None), _has_open_task()))


def list_status():
    """The derived status (module doc) as a SQL expression on ``ProcessInstance``."""
    return case((_running(), literal("running")), (ProcessInstance.status == "active", literal("waiting")),
                else_=ProcessInstance.status)


def closed_at():
    """When a case closed: completion, or the last change of a terminated case (the engine
    stamps no completion on a termination); NULL while open."""
    return case((ProcessInstance.status.in_(CLOSED),
                 func.coalesce(ProcessInstance.completed_at, ProcessInstance.updated_at)), else_=None)


def _tasks(*conditions):
    return ProcessInstance.id.in_(select(HumanTask.instance_id).where(*conditions))


def _unit(session, code: str, child_column):
    """The cases of a school or village: a task routed to it or below it, or its child."""
    units = sorted(subtree(session, code))
    return or_(_tasks(HumanTask.org_unit.in_(units)),
               cases_of_children(or_(child_column == code, Child.class_code.in_(units))))


def conditions(session, flt: CaseFilter, now, zone) -> dict[str, list]:
    """WHERE clauses on ``ProcessInstance`` by filter: ``{"status": [...], "step": [...],
    "other": [...]}`` (the counts leave out their own filter)."""
    other, status, step = [], [], []
    if flt.process_key:
        other.append(ProcessInstance.process_key == flt.process_key)
    if flt.version is not None:
        other.append(ProcessInstance.definition_id.in_(select(ProcessDefinition.id).where(
            ProcessDefinition.process_key == flt.process_key, ProcessDefinition.version == flt.version)))
    if flt.status == "running":
        status.append(_running())
    elif flt.status == "waiting":
        status.append(and_(ProcessInstance.status == "active", ~_running()))
    elif flt.status:
        status.append(ProcessInstance.status == flt.status)
    if flt.outcome:
        other.append(ProcessInstance.id.in_(select(CaseEventRecord.instance_id).where(
            CaseEventRecord.event == "closed", CaseEventRecord.outcome == flt.outcome)))
    if flt.org_unit:
        other.append(_tasks(HumanTask.org_unit == flt.org_unit))
    if flt.school:
        other.append(_unit(session, flt.school, Child.school_code))
    if flt.village:
        other.append(_unit(session, flt.village, Child.village_code))
    if flt.child_id is not None:
        other.append(cases_of_children(Child.id == flt.child_id))
    if flt.case_number is not None:
        other.append(ProcessInstance.id == flt.case_number)
    elif flt.child_name:
        other.append(cases_of_children(Child.name == flt.child_name))
    elif flt.child_pattern:
        other.append(cases_of_children(Child.name.like(like_pattern(flt.child_pattern), escape="\\")))
    if flt.step:
        step.append(_tasks(HumanTask.status == "open", HumanTask.element_id == flt.step))
    if flt.overdue:
        other.append(_tasks(HumanTask.status == "open", HumanTask.due_at < now))
    for column, low, high in ((ProcessInstance.created_at, flt.started_from, flt.started_to),
                              (closed_at(), flt.closed_from, flt.closed_to)):
        if low:
            other.append(column >= day_bounds(low, zone)[0])
        if high:
            other.append(column < day_bounds(high, zone)[1])
    return {"status": status, "step": step, "other": other}


def _sorted(query, flt: CaseFilter):
    """``query`` in ``flt``'s order. The nearest deadline is joined as one aggregate of the open
    tasks, not a subquery per case: SQLite answers a per-case MIN by walking the deadline index
    (ix_human_task_due) for each case, a cost that grows with the square of the cases."""
    if flt.sort == "due":
        due = select(HumanTask.instance_id, func.min(HumanTask.due_at).label("due_at")).where(
            HumanTask.status == "open").group_by(HumanTask.instance_id).subquery()
        query, column = query.outerjoin(due, due.c.instance_id == ProcessInstance.id), due.c.due_at
    else:
        column = {"started": ProcessInstance.created_at, "closed": closed_at(), "id": ProcessInstance.id}[flt.sort]
    last = ProcessInstance.id.desc() if flt.order == "desc" else ProcessInstance.id.asc()
    # Cases without the value (open ones by closure, ones with no deadline) come last either way.
    return query.order_by(column.is_(None), column.desc() if flt.order == "desc" else column.asc(), last)


def case_list(engine, principal, flt: CaseFilter, *, max_lines: int | None = None) -> dict:
    """The cases ``principal`` may trace that match ``flt``: ``{items, total, page, per_page,
    pages, counts: {status: {running, waiting, completed, error, terminated}, step:
    [{element_id, name, count}]}}``. ``counts.status`` counts every filter but the status,
    ``counts.step`` (the open tasks' steps, most cases first) every filter but the step, so
    each count is what choosing it would list. Items: ``describe``. ``page`` None: every line.
    ``max_lines``: with ``page`` None, more matching cases than this load no items and add
    ``too_many: True`` (an export too large to build). InvalidInput (422) for a filter naming
    an unknown process, version, school or village."""
    now, zone = engine.clock(), engine.zone
    with engine.db.read() as session:
        flt.check(session)
        where = conditions(session, flt, now, zone)
        base = [access.case_scope(session, principal).condition(), *where["other"]]
        every = [*base, *where["status"], *where["step"]]
        total = session.scalar(select(func.count()).select_from(ProcessInstance).where(*every))
        derived = list_status().label("list_status")
        by_status = dict(session.execute(select(derived, func.count()).select_from(ProcessInstance)
                                         .where(*base, *where["step"]).group_by(derived)).all())
        steps = session.execute(
            select(HumanTask.element_id, func.max(HumanTask.name), func.count(distinct(HumanTask.instance_id)))
            .where(HumanTask.status == "open", HumanTask.instance_id.in_(
                select(ProcessInstance.id).where(*base, *where["status"])))
            .group_by(HumanTask.element_id)).all()
        query = _sorted(select(ProcessInstance).where(*every), flt)
        if flt.page is not None:
            query = query.offset((flt.page - 1) * flt.per_page).limit(flt.per_page)
        too_many = flt.page is None and max_lines is not None and total > max_lines
        rows = [] if too_many else list(session.scalars(query))
        items = describe(session, rows, now)
    per_page = flt.per_page if flt.page is not None else max(total, 1)
    return {"items": items, "total": total, "page": flt.page or 1, "per_page": per_page,
            **({"too_many": True} if too_many else {}),
            "pages": max(1, -(-total // per_page)),
            "counts": {"status": {code: by_status.get(code, 0) for code in STATUSES},
                       "step": [{"element_id": e, "name": n or e, "count": c}
                                for e, n, c in sorted(steps, key=lambda s: (-s[2], s[0]))]}}


def describe(session, rows: list[ProcessInstance], now) -> list[dict]:
    """Each case as listed: ``{id, instance_id, process_key, process_name, version, status,
    status_name, outcome, outcome_label, child: {id, name (masked), school, school_name,
    village, village_name} | None, current_steps: [name], due_at (the nearest deadline of an
    open task), overdue, started_at, closed_at, started_by, business_key}``; times ISO 8601 UTC."""
    ids = [r.id for r in rows]
    if not ids:
        return []
    definitions = {d.id: d for d in session.scalars(select(ProcessDefinition).where(
        ProcessDefinition.id.in_({r.definition_id for r in rows})))}
    open_tasks: dict[int, list] = {}
    for task in session.execute(select(HumanTask.instance_id, HumanTask.name, HumanTask.element_id, HumanTask.due_at)
                                .where(HumanTask.instance_id.in_(ids), HumanTask.status == "open")
                                .order_by(HumanTask.created_at, HumanTask.id)):
        open_tasks.setdefault(task.instance_id, []).append(task)
    outcomes = dict(session.execute(select(CaseEventRecord.instance_id, CaseEventRecord.outcome).where(
        CaseEventRecord.instance_id.in_(ids), CaseEventRecord.event == "closed").order_by(CaseEventRecord.id)).all())
    child_of = children_of_cases(session, rows)
    children = {c.id: c for c in session.scalars(select(Child).where(Child.id.in_(set(child_of.values()))))}
    names = unit_names(session, {code for c in children.values() for code in (c.school_code, c.village_code)})
    starters = display_names(session, {r.started_by for r in rows if r.started_by})
    items = []
    for row in rows:
        tasks = open_tasks.get(row.id, [])
        status = row.status if row.status != "active" else (
            "running" if tasks or row.pending_steps is not None else "waiting")
        definition = definitions.get(row.definition_id)
        child = children.get(child_of.get(row.id))
        closed = (row.completed_at or row.updated_at) if row.status in CLOSED else None
        due = min((t.due_at for t in tasks if t.due_at), default=None)
        items.append({
            "id": row.id, "instance_id": row.id, "process_key": row.process_key,
            "process_name": (definition.name if definition else None) or row.process_key,
            "version": definition.version if definition else None, "status": status,
            "status_name": STATUSES.get(status, status), "outcome": outcomes.get(row.id),
            "outcome_label": outcome_label(outcomes[row.id]) if outcomes.get(row.id) else None,
            "child": None if child is None else {
                "id": child.id, "name": mask_name(child.name), "school": child.school_code,
                "school_name": names.get(child.school_code), "village": child.village_code,
                "village_name": names.get(child.village_code)},
            "current_steps": [t.name or t.element_id for t in tasks],
            "due_at": due.isoformat() if due else None,
            "overdue": any(t.due_at is not None and t.due_at < now for t in tasks),
            "started_at": row.created_at.isoformat(), "closed_at": closed.isoformat() if closed else None,
            "started_by": row.started_by, "started_by_name": starter_name(row.started_by, starters),
            "business_key": row.business_key})
    return items


def starter_name(username: str | None, people: dict) -> str:
    """Who started a case, in words for pages: a person's display name, or what started it
    (an attendance report, another case's message, the system)."""
    if username and username in people:
        return people[username]
    if username and username.startswith("instance:"):
        return f"系统（由关联案件 {username.removeprefix('instance:')} 发起）"
    return {"ledger": "系统（考勤登记）", "timer": "系统（定时）", "cli": "系统管理员（命令行）"}.get(username or "", "系统")


def log_list(engine, username: str, flt: CaseFilter, data: dict, action: str = "view") -> None:
    """The access-log row of one look at the list (``view``) or one export (``export``):
    subject ``cases``, detail ``{view: case_list, filters (a name masked), total, ids}``
    (``ids``: the cases shown, at most ``LOGGED_IDS``; ``ids_cut`` when there were more).
    The list shows children's masked names with their school and village: every look is
    logged, as a case's is (issue 13 "Access")."""
    ids = [item["id"] for item in data["items"]]
    detail = {"view": "case_list", "filters": flt.public(), "total": data["total"], "ids": ids[:LOGGED_IDS],
              **({"ids_cut": True} if len(ids) > LOGGED_IDS else {})}
    with engine.db.transaction() as session:
        access.log_access(session, username, action, "cases", detail, engine.clock())


def unit_choices(session, principal) -> dict[str, list[tuple[str, str]]]:
    """The schools and villages a person may filter by: every one for those who trace every
    case, else the units they head (``access.CASE_UNIT_HEADS``: a principal's school, a
    secretary's village); nobody else has a unit of cases to filter by."""
    query = select(OrgUnit.code, OrgUnit.name, OrgUnit.kind).where(OrgUnit.kind.in_(("school", "village")))
    if not access.case_scope(session, principal).every:
        query = query.where(OrgUnit.code.in_(sorted({unit for role in access.CASE_UNIT_HEADS
                                                     for unit in principal.units(role)})))
    found: dict[str, list] = {"school": [], "village": []}
    for code, name, kind in session.execute(query.order_by(OrgUnit.sort, OrgUnit.code)):
        found[kind].append((code, name))
    return found


def process_choices(session) -> list[dict]:
    """Every deployed process: ``[{key, name (latest version's), versions: [n, ...]}]``."""
    found: dict[str, dict] = {}
    for key, name, version in session.execute(select(ProcessDefinition.process_key, ProcessDefinition.name,
                                                     ProcessDefinition.version)
                                              .order_by(ProcessDefinition.process_key, ProcessDefinition.version)):
        entry = found.setdefault(key, {"key": key, "name": key, "versions": []})
        entry["name"], entry["versions"] = name or key, [*entry["versions"], version]
    return sorted(found.values(), key=lambda e: e["key"])
