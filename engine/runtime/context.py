"""What a command sees while it runs: the open transaction, the instance and its workflow."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session
from SpiffWorkflow.bpmn import BpmnWorkflow

from ..audit import append_event, instance_stream
from ..persistence.models import ProcessInstance
from ..store import WorkflowStore
from .steps import StepLimits


@dataclass
class Hooks:
    router: Any
    due_policy: Any
    form_message: Any = None   # jsonschema ValidationError -> message shown to the user
    # Variables no form may set (the caller's, e.g. its router's); the engine adds its own
    # (runtime.forminput.engine_variables).
    protected_variables: frozenset = frozenset()
    business_key: Any = None   # (process_key, correlation, payload, *, session) -> key of a message-started instance
    form_choices: Any = None   # (ChoiceContext, rule) -> [(value, label)] of an x-choicesFrom field
    # (steps) -> {name: value}: variables the caller derives from an instance's completed forms
    # for ``$name`` bounds (runtime.casevariables)
    form_variables: Any = None


@dataclass
class CommandContext:
    session: Session
    instance: ProcessInstance
    workflow: BpmnWorkflow
    store: WorkflowStore
    hooks: Hooks
    actor: str | None
    now: datetime
    forms: Any = None                                    # FormSource for the instance's version
    state_row: Any = None                                # the WorkflowState row being rewritten
    completed_by: dict[str, str | None] = field(default_factory=dict)
    fired_timers: set[str] = field(default_factory=set)
    limits: StepLimits = field(default_factory=StepLimits)   # the executor's bounds on engine steps

    def audit(self, kind: str, *, element_id: str | None = None, task_id: str | None = None,
              data: dict | None = None) -> None:
        """Append an audit event to this instance's chain, in this transaction."""
        append_event(self.session, instance_stream(self.instance.id), kind, at=self.now,
                     actor=self.actor, instance_id=self.instance.id, element_id=element_id,
                     task_id=task_id, data=data)
