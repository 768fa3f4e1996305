"""The one module that turns SpiffWorkflow workflows into stored text and back.

Callers never touch the serializer. The text is kept exactly as ``serialize_json`` wrote it:
3.2's delta task format rebuilds a task's data from its parent only if the parent was
restored first, so any key reordering (PostgreSQL ``jsonb``, ``sort_keys``) empties task
data without an error (SPIFFWORKFLOW-NOTES 10-A). The script engine is not part of the
serialization and is re-attached on every load (10-N).
"""
from __future__ import annotations

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from .sandbox import register_data_types


class WorkflowStore:
    """Serialize and deserialize workflows; ``version`` is written beside each state."""

    def __init__(self, script_engine: PythonScriptEngine):
        self.script_engine = script_engine
        self.registry = BpmnWorkflowSerializer.configure(SPIFF_CONFIG)
        register_data_types(self.registry)  # scripts may leave `date` values in task data
        self.serializer = BpmnWorkflowSerializer(self.registry)

    @property
    def version(self) -> str:
        return self.serializer.VERSION

    def dumps(self, workflow: BpmnWorkflow) -> str:
        return self.serializer.serialize_json(workflow)

    def loads(self, text: str) -> BpmnWorkflow:
        workflow = self.serializer.deserialize_json(text)
        workflow.script_engine = self.script_engine
        return workflow

    def to_json_safe(self, value):
        """Task data as plain JSON types (datetimes etc. in the registry's tagged form)."""
        return self.registry.convert(value)
