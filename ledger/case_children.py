"""Which child a case is about, as SQL (for scopes and filters that must stay in the database).

A case is about a child when its business key is ``child:<id>`` (every start of a child's case:
``ledger.case_handoff.business_key``) or when one of its tasks names the child as its subject
(``human_task.subject_id``, set by ``ledger.routing``): a case file such as the support measures
(``case:<id>``) is known only by its tasks. Both columns are indexed, so selecting the cases of
the children of one school or village is a few index look-ups, not a scan of every case.
"""
from __future__ import annotations

from sqlalchemy import String, cast, literal, or_, select

from engine.persistence.models import HumanTask, ProcessInstance

from .models import Child

CHILD_KEY = "child:"


def child_key(child_id_column):
    """The business key ``child:<id>`` built in SQL from an integer column."""
    return literal(CHILD_KEY, String) + cast(child_id_column, String)


def cases_of_children(child_condition):
    """A WHERE clause on ``ProcessInstance``: the case is about a child that ``child_condition``
    (a clause on ``Child``) selects."""
    by_key = select(ProcessInstance.id).join(Child, ProcessInstance.business_key == child_key(Child.id)) \
        .where(child_condition)
    by_task = select(HumanTask.instance_id).join(Child, HumanTask.subject_id == cast(Child.id, String)) \
        .where(child_condition)
    return or_(ProcessInstance.id.in_(by_key), ProcessInstance.id.in_(by_task))


def children_of_cases(session, instances) -> dict[int, int]:
    """``{instance id: child id}`` for the given ``ProcessInstance`` rows (a page of a list):
    the business key's child, else the first task subject that is a child id."""
    found = {}
    for row in instances:
        key = row.business_key or ""
        if key.startswith(CHILD_KEY) and key[len(CHILD_KEY):].isdigit():
            found[row.id] = int(key[len(CHILD_KEY):])
    rest = [row.id for row in instances if row.id not in found]
    if rest:
        for instance_id, subject in session.execute(
                select(HumanTask.instance_id, HumanTask.subject_id).where(
                    HumanTask.instance_id.in_(rest), HumanTask.subject_id.is_not(None))
                .order_by(HumanTask.created_at, HumanTask.id)):
            if instance_id not in found and subject.isdigit():
                found[instance_id] = int(subject)
    return found
