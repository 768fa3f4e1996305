"""``ProcessEngine``: the engine assembled, and the façade its callers use.

    engine = ProcessEngine(EngineConfig(database_url="sqlite:///var/baoxue.db", audit_key=secret))
    engine.repository.deploy_paths(["processes"])          # definitions
    engine.drafts.deploy(draft_id, note="…", row_version=1)  # the editor's drafts
    engine.runtime.start("persuasion", {"child_id": 7})    # instances
    engine.tasks.list(TaskQuery(role="head_teacher"))      # the human-task index
    engine.messages.deliver("returned", {"child_id": 7})   # messages
    engine.timers.fire_due()                               # timers
    engine.history.verify_chain(instance_id)               # audit
    engine.incidents.list(IncidentQuery(status="open"))    # failed steps: retry, resolve
    engine.lifecycle.suspend(instance_id, "reason", actor=a)  # suspend, resume, terminate
    engine.versions.migrate(instance_id, to_version=3, actor=a)   # running instances, new version
    engine.consistency.run()                               # the consistency check

The caller plugs in a role directory (``known_roles``), a ``router``, a ``due_policy``, the
``business_key`` of message-started instances and the ``form_choices`` of fields marked
``x-choicesFrom`` (see ``engine.runtime.hooks``), pure script
functions (``sandbox.functions``), the variables its hooks read that no form may set
(``protected_variables``: ``engine.runtime.forminput``) and checks of its own for
``baoxue check`` (``checks``: ``engine.consistency.Check``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Collection, Mapping, Sequence

from . import clock as clock_module
from .audit import KEYS_INFO, AuditKeyring, as_keyring
from .consistency import Check, ConsistencyService
from .drafts import DraftService
from .history import HistoryService
from .tracing import TraceService
from .incidents import IncidentService
from .lifecycle import LifecycleService
from .instances import RuntimeService
from .messages import MessageService
from .migrate import SchemaBehind, schema_behind, upgrade
from .persistence.database import Database
from .repository import Repository
from .runtime.context import Hooks
from .runtime.executor import CommandExecutor
from .runtime.hooks import (
    BusinessKeyRule, DuePolicy, FormChoices, Router, correlation_business_key, duration_due_policy, lane_router,
    no_form_choices,
)
from .runtime.steps import StepLimits
from .sandbox import SandboxConfig, check_compiles, make_script_engine
from .store import WorkflowStore
from .tasks import TaskService
from .timers import TimerService
from .versions import VersionService


@dataclass
class EngineConfig:
    database_url: str = "sqlite:///var/baoxue.db"
    timezone: str = "Asia/Shanghai"
    known_roles: Collection[str] | None = None       # lane names allowed at deploy; None = any
    router: Router = lane_router
    due_policy: DuePolicy = duration_due_policy
    form_message: Callable | None = None             # jsonschema error -> user-facing text
    form_choices: FormChoices = no_form_choices       # what an ``x-choicesFrom`` field offers
    # steps -> {name: value} for a form's ``$name`` bounds: runtime.casevariables
    form_variables: Callable | None = None
    # Variables no form may set or declare (e.g. the router's): runtime.forminput.
    protected_variables: Collection[str] = ()
    # Task properties by which the router sends a human task without its lane (deploy check).
    routing_properties: Collection[str] = ()
    business_key: BusinessKeyRule = correlation_business_key   # of instances message start events start
    clock: Callable = clock_module.system_clock
    sandbox: SandboxConfig = field(default_factory=SandboxConfig)
    form_dirs: Sequence[Path] = ()                    # where forms referenced by user tasks live
    search_path: Sequence[Path] = ()                  # where called processes are looked up
    migration_locations: Sequence[Path] = ()          # extra Alembic version folders (the domain's)
    checks: Sequence[Check] = ()                      # the caller's consistency checks (engine.consistency)
    # The secret that keys the audit chains (bytes/str of >= 16 bytes, or an AuditKeyring with
    # retired keys). Required: the caller reads it from its own configuration, never the engine.
    audit_key: bytes | str | AuditKeyring | None = None
    steps: StepLimits = field(default_factory=StepLimits)   # engine steps per transaction, per run
    # {message name or "*": payload fields} kept only by the receiving process: a stored message
    # loses them once it is no longer pending (engine.messages), so an unmatched one keeps none.
    private_message_fields: Mapping[str, Collection[str]] = field(default_factory=dict)
    # {message name: who sends it} for messages the caller's own code sends (not a process):
    # MessageService.internal_senders names them, with the processes that throw a message.
    reserved_messages: Mapping[str, str] = field(default_factory=dict)


class ProcessEngine:
    def __init__(self, config: EngineConfig):
        self.config = config
        self.zone = clock_module.set_local_timezone(config.timezone)
        self.clock = config.clock
        self.audit_keys = as_keyring(config.audit_key)
        self.db = Database(config.database_url, {KEYS_INFO: self.audit_keys})
        self.script_engine = make_script_engine(config.sandbox)
        self.store = WorkflowStore(self.script_engine)
        self.repository = Repository(self.db, self.clock, known_roles=config.known_roles,
                                     form_dirs=config.form_dirs, search_path=config.search_path,
                                     check_compiles=check_compiles,
                                     protected_variables=config.protected_variables,
                                     routing_properties=config.routing_properties)
        hooks = Hooks(config.router, config.due_policy, config.form_message, frozenset(config.protected_variables),
                      config.business_key, config.form_choices, config.form_variables)
        self.executor = CommandExecutor(self.db, self.store, hooks, self.clock, self.repository.forms, config.steps)
        self.drafts = DraftService(self)
        self.runtime = RuntimeService(self)
        self.tasks = TaskService(self)
        self.messages = MessageService(self)
        self.timers = TimerService(self)
        self.history = HistoryService(self)
        self.tracing = TraceService(self)
        self.incidents = IncidentService(self)
        self.lifecycle = LifecycleService(self)      # suspend, resume, terminate
        self.versions = VersionService(self)         # move running instances to another version
        self.consistency = ConsistencyService(self, config.checks)

    def migrate(self) -> None:
        """Apply every pending schema migration (engine's and the caller's)."""
        upgrade(self.db.engine, self.config.migration_locations)

    def schema_behind(self) -> SchemaBehind | None:
        """None when the database is at the head of every migration (engine's and the
        caller's); else what it lacks (``engine.migrate.schema_behind``). A server or worker
        on a database behind its code would fail on the first request that reads a new table."""
        return schema_behind(self.db.engine, self.config.migration_locations)

    def require_current_schema(self) -> None:
        """Raise SchemaBehind unless ``schema_behind()`` is None (run ``migrate`` first)."""
        behind = self.schema_behind()
        if behind is not None:
            raise behind

    def close(self) -> None:
        self.db.dispose()
