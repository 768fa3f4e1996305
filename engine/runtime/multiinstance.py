"""Multi-instance activities: outputs kept with their input items, a missing output refused.

SpiffWorkflow 3.2 (SPIFFWORKFLOW-NOTES §7 "MI pitfalls", 10-C, 10-E, 10-H):

* A list output of a parallel multi-instance (separate from its input, or driven by
  ``loopCardinality``) is *appended to* in completion order: units [A, B, C] signed C, A, B
  give [C-sig, A-sig, B-sig]. ``install`` makes every instance write its output at its input
  item's position (list index, dict key or cardinality index), whatever the order: a list
  output has one slot per input item, ``None`` until that instance completes (and for
  instances a completion condition cancelled).
* ``loopCardinality`` with an output variable that already exists raises ``NameError:
  data_ouput`` (a typo): fixed by the same install.
* An instance completed without its ``outputDataItem`` raises ``WorkflowDataException`` from
  the merge, after the instance is already COMPLETED: the executor would roll back and put
  the case in error. ``missing_output`` lets the command refuse such a completion (422)
  *before* ``task.run()``; a postScript that was expected to set the item and did not raises
  ``MissingOutputItem`` from the merge, which the command turns into the same 422.

``install`` patches SpiffWorkflow's ``MultiInstanceTask`` class once, at import (like
``engine.formschema`` does for jsonschema), so workflows restored from storage behave the same.
"""
from __future__ import annotations

from collections.abc import Mapping, MutableMapping, MutableSequence, Sequence

from jsonschema import ValidationError
from SpiffWorkflow.bpmn.exceptions import WorkflowDataException
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask

from ..errors import InvalidInput


class MissingOutputItem(WorkflowDataException):
    """An instance of a multi-instance activity completed without its output item."""


def mi_parent(task):
    """The multi-instance task ``task`` is an instance of, or None."""
    parent = task.parent
    spec = parent.task_spec if parent is not None else None
    if isinstance(spec, MultiInstanceTask) and spec.task_spec == task.task_spec.name:
        return parent
    return None


def output_item_name(task) -> str | None:
    """The ``outputDataItem`` name an instance ``task`` must set, or None (not an instance,
    or its multi-instance collects no output)."""
    parent = mi_parent(task)
    if parent is None:
        return None
    spec = parent.task_spec
    if spec.data_output is None or spec.output_item is None:
        return None
    return spec.output_item.bpmn_id


def missing_output(task) -> str | None:
    """The output item ``task`` (an instance about to be completed, its submitted data
    already merged in) lacks, or None. A task with a postScript may still set it when it
    runs: not judged here (the merge raises ``MissingOutputItem`` then)."""
    name = output_item_name(task)
    if name is None or name in task.data or getattr(task.task_spec, "postscript", None):
        return None
    return name


def refuse_missing_output(name: str, message=None):
    """Raise InvalidInput ``{name: reason}``: the completion lacks output item ``name``
    (``message(ValidationError)`` words the reason, as for a form's required field)."""
    reason = message(ValidationError(f"{name} is required", validator="required", validator_value=[name])) \
        if message else "required"
    raise InvalidInput(f"the output {name} of this multi-instance task is missing", errors={name: reason})


def _position(child):
    """Where an instance's output goes: its input's list index or dict key, or its
    cardinality index; None for an unordered input (a set), which has no position."""
    key = child.internal_data.get("key_or_index")
    if key is not None:
        return key
    item = child.internal_data.get("item")
    spec = child.parent.task_spec
    return item if spec.data_input is None and isinstance(item, int) else None


def _slots(spec, my_task) -> int:
    """How many instances the multi-instance has in all (the length of a list output)."""
    if spec.data_input is not None:
        data_input = spec.data_input.get(my_task)
        if isinstance(data_input, (Sequence, Mapping)):
            return len(data_input)
    cardinality = my_task.internal_data.get("cardinality")
    if isinstance(cardinality, int):
        return cardinality
    return sum(1 for _ in spec._instances(my_task))


def merge_child(self, workflow, child):
    """SpiffWorkflow's ``MultiInstanceTask.merge_child``, placing outputs by position."""
    my_task = child.parent
    if self.data_output is None or self.output_item is None:
        return _ORIGINAL_MERGE(self, workflow, child)
    if not self.output_item.exists(child):
        raise MissingOutputItem(f"{child.task_spec.bpmn_id}: the instance completed without its output "
                                f"item {self.output_item.bpmn_id!r}", child,
                                data_input=self.data_input, data_output=self.data_output)
    item = self.output_item.get(child)
    position = _position(child)
    output = self.data_output.get(my_task)
    if isinstance(output, MutableMapping) and position is not None:
        output[position] = item
    elif isinstance(output, MutableSequence) and isinstance(position, int):
        missing = max(_slots(self, my_task), position + 1) - len(output)
        output.extend([None] * missing)
        output[position] = item
    else:
        output.append(item)   # an unordered input: no position to keep
    my_task.internal_data["merged"].append(str(child.id))


def init_data_output_with_cardinality(self, my_task):
    """SpiffWorkflow's version without the ``data_ouput`` typo (10-C)."""
    if not self.data_output.exists(my_task):
        self.data_output.set(my_task, [])
        return
    output = self.data_output.get(my_task)
    if not isinstance(output, (MutableMapping, MutableSequence)):
        self.raise_data_exception("Only a mutable map (dict) or sequence (list) can be used for output", my_task)
    if not isinstance(output, MutableMapping) and len(output) > 0:
        self.raise_data_exception(
            "If loop cardinality is specified, the output must be a map (dict) or empty sequence (list)", my_task)


_ORIGINAL_MERGE = MultiInstanceTask.__dict__["merge_child"]


def install() -> None:
    """Patch SpiffWorkflow's multi-instance merge (idempotent; done at import). The
    sequential and parallel classes call ``super().merge_child``, so both get it."""
    MultiInstanceTask.merge_child = merge_child
    MultiInstanceTask.init_data_output_with_cardinality = init_data_output_with_cardinality


install()
