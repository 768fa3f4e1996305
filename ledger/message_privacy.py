"""Which message fields are kept only by the process that receives them (issue 10 §7:
"Free-text health or family details sent to another process are kept only by that process;
an unmatched message keeps no such text").

Given to the engine as ``EngineConfig.private_message_fields``: once a message is delivered
or found unmatched, the engine's stored copy drops these fields (``engine.messages``). The
receiving case keeps them in its own data and audit record, where its access rules apply.
Any message's field of these names counts ("*"): free text about a cause, a plan or a
family travels under these names in every process of ``processes/``.
"""
from __future__ import annotations

PRIVATE_TEXT_FIELDS = (
    "cause_detail",       # the village check's words about why the child is out (health, family)
    "exit_detail",        # a lawful exit's details (illness, disability, family moved)
    "plan_measures", "plan_responsible",   # the schooling plan for the child and who carries it
    "tendency_reason",    # what the head teacher saw (厌学, 家庭变故)
    "health_detail", "family_detail", "notes",
)
PRIVATE_MESSAGE_FIELDS = {"*": PRIVATE_TEXT_FIELDS}
