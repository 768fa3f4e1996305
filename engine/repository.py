"""Deployed process definitions: validate, store as immutable versions, look up, parse.

A deploy stores its files once (``deployment``, by content hash) and one
``process_definition`` row per executable process it defines. A process whose own
content (its file, the files of the processes it calls, the DMN and form files) is
unchanged keeps its version: redeploying the same folder creates nothing new.
"""
from __future__ import annotations

import ast
from contextlib import contextmanager
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Callable, Collection, Mapping, Sequence

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent

from .audit import DEFINITIONS_STREAM, append_event
from .clock import frozen_at
from .definitions import DeployValidationError, build_parser, load_specs, validate_bundle
from .definitions.diagram import process_diagrams
from .definitions.parsing import files_digest
from .definitions.versiondiff import version_diff
from .errors import Conflict, InvalidInput, NotFound
from .persistence.models import (
    Deployment, DeploymentFile, MessageStart, ProcessDefinition, ProcessInstance, TimerJob,
)

DEPLOYABLE_SUFFIXES = (".bpmn", ".bpmn20.xml", ".dmn")
ENDED_STATUSES = ("completed", "terminated")   # an instance in any other status still runs


@dataclass(frozen=True)
class DeployedProcess:
    process_key: str
    version: int
    definition_id: int
    name: str | None
    created: bool          # False when the content was unchanged and the version reused

    def to_dict(self) -> dict:
        return dict(process_key=self.process_key, version=self.version,
                    definition_id=self.definition_id, name=self.name, created=self.created)


class DeployResult(list):
    """The deployed processes (a list of DeployedProcess, as before) and ``warnings``: the
    deploy's notes that did not refuse it, as ``[{file, element_id, line, message}]``."""

    def __init__(self, processes=(), warnings=()):
        super().__init__(processes)
        self.warnings = list(warnings)


class FormSource:
    """The JSON form files of one version, read on first use (in the caller's transaction)."""

    def __init__(self, load_files: Callable[[], Mapping[str, bytes]]):
        self._load_files = load_files

    def names(self) -> list[str]:
        """The names of this version's JSON files (forms and their UI schemas), sorted."""
        return sorted(name for name in self._load_files() if name.endswith(".json"))

    def schema(self, name: str) -> dict:
        files = self._load_files()
        if name not in files:
            raise NotFound(f"form {name} is not part of this process version")
        return _json(files[name])


@lru_cache(maxsize=256)
def _json_cached(raw: bytes):
    return json.loads(raw)


def _json(raw: bytes):
    return json.loads(raw) if len(raw) > 1_000_000 else _json_cached(raw)


class Repository:
    def __init__(self, db, clock: Callable[[], datetime], *, known_roles: Collection[str] | None,
                 form_dirs: Sequence[Path] = (), search_path: Sequence[Path] = (),
                 check_compiles=None, protected_variables: Collection[str] = (),
                 routing_properties: Collection[str] = ()):
        self.db, self.clock = db, clock
        self.protected_variables = frozenset(protected_variables)
        self.routing_properties = frozenset(routing_properties)
        self.known_roles, self.form_dirs, self.search_path = known_roles, form_dirs, search_path
        self.check_compiles = check_compiles
        self._files_cache: dict[int, dict[str, bytes]] = {}
        self._spec_cache: dict[int, tuple] = {}
        self._diagram_cache: dict[int, dict] = {}

    # -- deploy ---------------------------------------------------------------------------
    def deploy(self, files: Mapping[str, bytes], actor: str | None = None, *,
               search_path: Sequence[Path | Mapping[str, bytes]] | None = None,
               form_dirs: Sequence[Path | Mapping[str, bytes]] | None = None,
               note: str | None = None) -> DeployResult:
        """Validate and store ``files`` ({filename: bytes}); returns one entry per process,
        with the deploy's warnings (``DeployResult.warnings``). ``note`` (why) is kept on
        every version this deploy creates and in its ``version_deployed`` audit event.

        Raises InvalidInput (422) whose ``errors`` is a list of ``{file, element_id, line,
        message}``; nothing is stored then. Warnings (same shape) do not stop a deploy.
        """
        bundle = self._validated(files, search_path, form_dirs)
        if bundle.errors:
            raise InvalidInput(f"{len(bundle.errors)} problem(s) in the deployed files",
                               errors=[e.to_dict() for e in bundle.errors])
        if not bundle.processes:
            raise InvalidInput("no executable process in the deployed files",
                               errors=[{"file": None, "element_id": None, "line": None,
                                        "message": "no executable process found"}])
        now = self.clock()
        hashes = self._hashes(bundle)

        def store(session):
            deployment = self._store_files(session, bundle.files, actor, now)
            return [self._store_version(session, deployment, info, hashes[pid], actor, now, note)
                    for pid, info in sorted(bundle.processes.items())]
        return DeployResult(self._storing(store), warnings=[w.to_dict() for w in bundle.warnings])

    def redeploy(self, process_key: str, version: int, *, note: str, actor: str | None) -> DeployedProcess:
        """Put version ``version`` of ``process_key`` back as the newest version (N+1, same
        files and content hash; its ``version_deployed`` event names ``redeployed_from``):
        the way back from a version that should not have been deployed. New cases start on
        it; running cases stay where they are (migrate them like any other version).

        Raises NotFound (404: no such key or version), InvalidInput (422: note missing or over
        2000 characters; the stored files no longer validate, e.g. a role was removed since),
        Conflict (409: it is the newest version already).
        """
        note = (note or "").strip()
        if not note or len(note) > 2000:
            raise InvalidInput("部署说明必填，且不超过 2000 字", errors={"note": "请填写重新发布的原因（不超过 2000 字）"})
        with self.db.read() as session:
            rows = {d.version: d for d in session.scalars(select(ProcessDefinition).where(
                ProcessDefinition.process_key == process_key))}
        if version not in rows:
            raise NotFound(f"{process_key} has no version {version}")
        if version == max(rows):
            raise Conflict(f"第 {version} 版已是最新版本 (version {version} is the newest)",
                           errors={"version": "已是最新版本"})
        source = rows[version]
        files = self.files(source.id)
        bundle = self._validated(files, [], [])
        if bundle.errors or process_key not in bundle.processes:
            raise InvalidInput(f"第 {version} 版的文件已不能通过部署校验",
                               errors=[e.to_dict() for e in bundle.errors])
        now = self.clock()

        def store(session):
            return self._store_version(session, session.get(Deployment, source.deployment_id),
                                       bundle.processes[process_key], source.content_hash, actor, now, note,
                                       again=True, extra={"redeployed_from": version})
        return self._storing(store)

    def _storing(self, store: Callable, attempts: int = 3):
        """Run ``store(session)`` in a transaction, again when a concurrent deploy took the
        same version number or stored the same files first (a unique key refused ours: the
        next attempt reads theirs and numbers after it). Conflict (409) if it keeps losing."""
        for _ in range(attempts):
            try:
                with self.db.transaction() as session:
                    return store(session)
            except IntegrityError:
                continue
        raise Conflict("同时有其他部署正在进行，请稍后重试 (concurrent deploys of this process)",
                       errors={"version": "concurrent deploy"})

    def check(self, files: Mapping[str, bytes], *,
              search_path: Sequence[Path | Mapping[str, bytes]] | None = None,
              form_dirs: Sequence[Path | Mapping[str, bytes]] | None = None) -> dict:
        """A dry-run deploy: what ``deploy`` would say, storing nothing.

        Returns ``{valid, errors, warnings, processes: [{process_key, name, current_version,
        next_version}]}``; problems in the shape of ``deploy``'s 422 (``{file, element_id,
        line, message}``); ``next_version`` is None where the content is unchanged (the
        deploy would reuse ``current_version``). Never raises for bad files.
        """
        bundle = self._validated(files, search_path, form_dirs)
        report = {"valid": not bundle.errors and bool(bundle.processes),
                  "errors": [e.to_dict() for e in bundle.errors],
                  "warnings": [w.to_dict() for w in bundle.warnings], "processes": []}
        if bundle.errors:
            return report
        if not bundle.processes:
            report["errors"].append({"file": None, "element_id": None, "line": None,
                                     "message": "no executable process found"})
            return report
        hashes = self._hashes(bundle)
        with self.db.read() as session:
            for pid, info in sorted(bundle.processes.items()):
                rows = session.execute(select(ProcessDefinition.version, ProcessDefinition.content_hash).where(
                    ProcessDefinition.process_key == pid)).all()
                current = max((v for v, _ in rows), default=None)
                same = next((v for v, h in rows if h == hashes[pid]), None)
                report["processes"].append({
                    "process_key": pid, "name": info.name, "current_version": current,
                    "next_version": None if same is not None else (current or 0) + 1})
        return report

    def latest_sources(self) -> dict[str, bytes]:
        """``{file name: bytes}``: each process key's newest version's own file, and the
        DMN and form files of the newest deploys. An editor's deploy resolves called
        processes and forms here first, so it builds on what runs now rather than on the
        files on disk (which the editor does not change)."""
        with self.db.read() as session:
            newest = session.scalars(select(ProcessDefinition).where(
                ProcessDefinition.id.in_(select(func.max(ProcessDefinition.id)).group_by(
                    ProcessDefinition.process_key))).order_by(ProcessDefinition.id)).all()
        sources: dict[str, bytes] = {}
        for definition in newest:   # oldest deploy first, so the newest wins a shared name
            for name, content in self.files(definition.id).items():
                if name == definition.file_name or name.lower().endswith((".dmn", ".json")):
                    sources[name] = content
        return sources

    def _validated(self, files, search_path, form_dirs):
        return validate_bundle(files, known_roles=self.known_roles,
                               search_path=self.search_path if search_path is None else search_path,
                               form_dirs=self.form_dirs if form_dirs is None else form_dirs,
                               check_compiles=self.check_compiles,
                               protected_variables=self.protected_variables,
                               routing_properties=self.routing_properties)

    def _hashes(self, bundle) -> dict[str, str]:
        parser = build_parser(bundle.files)   # one parse for every process's hash
        return {pid: self._process_hash(parser, bundle.files, pid) for pid in bundle.processes}

    def deploy_paths(self, paths: Sequence[Path], actor: str | None = None, *, note: str | None = None) -> DeployResult:
        """Deploy files and folders (each folder: its BPMN/DMN files, also the call search path)."""
        files, folders = {}, []
        for path in map(Path, paths):
            if path.is_dir():
                folders.append(path)
                for item in sorted(path.rglob("*")):
                    if item.is_file() and item.name.lower().endswith(DEPLOYABLE_SUFFIXES):
                        files[str(item.relative_to(path))] = item.read_bytes()
            elif path.is_file():
                folders.append(path.parent)
                files[path.name] = path.read_bytes()
            else:
                raise InvalidInput(f"{path} does not exist",
                                   errors=[{"file": str(path), "element_id": None, "line": None,
                                            "message": "no such file or folder"}])
        return self.deploy(files, actor, search_path=[*folders, *self.search_path], note=note)

    def _store_files(self, session, files, actor, now) -> Deployment:
        digest = files_digest(files)
        deployment = session.scalars(select(Deployment).where(Deployment.content_hash == digest)).first()
        if deployment is None:
            deployment = Deployment(content_hash=digest, deployed_at=now, deployed_by=actor)
            session.add(deployment)
            session.flush()
            for name, content in sorted(files.items()):
                session.add(DeploymentFile(deployment_id=deployment.id, name=name, content=content))
        return deployment

    def _store_version(self, session, deployment, info, digest, actor, now, note, *,
                       again: bool = False, extra: dict | None = None) -> DeployedProcess:
        # A deploy of content some version already has reuses it (the newest such), so that
        # ``baoxue init`` redeploying processes/ never puts back what an editor replaced;
        # ``again`` (``redeploy``) makes it the newest version on purpose.
        existing = session.scalars(select(ProcessDefinition).where(
            ProcessDefinition.process_key == info.process_id,
            ProcessDefinition.content_hash == digest).order_by(ProcessDefinition.version.desc())).first()
        if existing is not None and not again:
            return DeployedProcess(info.process_id, existing.version, existing.id, existing.name, False)
        latest = session.scalar(select(func.max(ProcessDefinition.version)).where(
            ProcessDefinition.process_key == info.process_id)) or 0
        definition = ProcessDefinition(
            process_key=info.process_id, version=latest + 1, name=info.name, content_hash=digest,
            deployment_id=deployment.id, file_name=info.file,
            start_kinds=",".join(sorted(info.start_kinds)),
            message_start_names="\n".join(info.message_start_names),
            timer_start=info.timer_start, deployed_at=now, deployed_by=actor, note=note)
        session.add(definition)
        session.flush()
        self._replace_start_subscriptions(session, definition, info, now)
        append_event(session, DEFINITIONS_STREAM, "version_deployed", at=now, actor=actor,
                     data={"process_key": definition.process_key, "version": definition.version,
                           "definition_id": definition.id, "content_hash": digest,
                           "deployment_id": deployment.id, **({"note": note} if note else {}), **(extra or {})})
        return DeployedProcess(info.process_id, definition.version, definition.id, definition.name, True)

    def _replace_start_subscriptions(self, session, definition, info, now):
        """Only the newest version of a key starts on messages and timers (as in Camunda)."""
        older = select(ProcessDefinition.id).where(ProcessDefinition.process_key == definition.process_key,
                                                   ProcessDefinition.id != definition.id)
        session.execute(delete(MessageStart).where(MessageStart.definition_id.in_(older)))
        session.execute(update(TimerJob).where(TimerJob.kind == "start", TimerJob.status == "waiting",
                                               TimerJob.definition_id.in_(older)).values(status="cancelled"))
        for name in info.message_start_names:
            session.add(MessageStart(definition_id=definition.id, process_key=definition.process_key,
                                     message_name=name))
        if info.timer_start:
            with frozen_at(now):
                due, repeat = first_start_time(info.timer_start, now)
            session.add(TimerJob(kind="start", definition_id=definition.id, element_id=info.timer_start_id or "start",
                                 due_at=due, status="waiting", repeat=json.dumps(repeat) if repeat else None))

    # -- look up --------------------------------------------------------------------------
    @contextmanager
    def _reading(self, session):
        """Use the caller's open transaction if there is one: a second one would wait on
        the first for SQLite's write lock (BEGIN IMMEDIATE) and deadlock."""
        if session is not None:
            yield session
        else:
            with self.db.read() as own:
                yield own

    def latest(self, process_key: str) -> ProcessDefinition:
        with self.db.read() as session:
            definition = session.scalars(select(ProcessDefinition).where(
                ProcessDefinition.process_key == process_key).order_by(ProcessDefinition.version.desc())).first()
        if definition is None:
            raise NotFound(f"no process definition with key {process_key!r}")
        return definition

    def get(self, definition_id: int, session=None) -> ProcessDefinition:
        with self._reading(session) as session:
            definition = session.get(ProcessDefinition, definition_id)
        if definition is None:
            raise NotFound(f"process definition {definition_id} not found")
        return definition

    def list(self) -> list[ProcessDefinition]:
        with self.db.read() as session:
            return list(session.scalars(select(ProcessDefinition).order_by(
                ProcessDefinition.process_key, ProcessDefinition.version)))

    def files(self, definition_id: int, session=None) -> dict[str, bytes]:
        """The exact files of the deployment a version came from (immutable, so cached)."""
        if definition_id not in self._files_cache:
            with self._reading(session) as session:
                definition = session.get(ProcessDefinition, definition_id)
                if definition is None:
                    raise NotFound(f"process definition {definition_id} not found")
                rows = session.scalars(select(DeploymentFile).where(
                    DeploymentFile.deployment_id == definition.deployment_id))
                self._files_cache[definition_id] = {row.name: row.content for row in rows}
        return self._files_cache[definition_id]

    def specs(self, definition: ProcessDefinition, session=None):
        """(process spec, subprocess specs) of a version, parsed once per process."""
        if definition.id not in self._spec_cache:
            try:
                files = self.files(definition.id, session)
                self._spec_cache[definition.id] = load_specs(files, definition.process_key)
            except DeployValidationError as exc:  # stored files always validated; say so if not
                raise InvalidInput(str(exc), errors=[e.to_dict() for e in exc.errors]) from exc
        return self._spec_cache[definition.id]

    def diagrams(self, definition_id: int, session=None) -> dict:
        """``{process id: definitions.diagram.ProcessDiagram}`` of a version's files: names,
        flows and call activities, for the trace of its instances (immutable, so cached)."""
        if definition_id not in self._diagram_cache:
            self._diagram_cache[definition_id] = process_diagrams(self.files(definition_id, session))
        return self._diagram_cache[definition_id]

    def start_lanes(self, definition: ProcessDefinition) -> set[str | None]:
        """Lane names of the top-level start events of a version (None: a start outside lanes).
        Callers decide from them who may start an instance."""
        spec, _ = self.specs(definition)
        return {ts.lane for ts in spec.task_specs.values() if isinstance(ts, StartEvent)}

    def forms(self, definition_id: int, session=None) -> FormSource:
        return FormSource(lambda: self.files(definition_id, session))

    def _process_hash(self, parser, files: Mapping[str, bytes], process_id: str) -> str:
        spec = parser.get_spec(process_id)
        subs = parser.get_subprocess_specs(process_id, require_call_activity_specs=False)
        used = {spec.file, *(s.file for s in subs.values() if s is not None)}
        names = {name for name in files if name in used or Path(name).name in {Path(u).name for u in used if u}}
        for each in [spec, *(s for s in subs.values() if s is not None)]:
            for task_spec in each.task_specs.values():
                props = (getattr(task_spec, "extensions", None) or {}).get("properties", {})
                names.update(v for k, v in props.items() if k.startswith("form") and v in files)
        names.update(name for name in files if name.lower().endswith(".dmn"))
        return files_digest({name: files[name] for name in names})

    # -- versions side by side (issue 14: the process list, its history, the diff) --------
    def version(self, process_key: str, version: int, session=None) -> ProcessDefinition:
        """The row of ``process_key`` version ``version``; NotFound (404) naming which is unknown."""
        with self._reading(session) as session:
            definition = session.scalars(select(ProcessDefinition).where(
                ProcessDefinition.process_key == process_key, ProcessDefinition.version == version)).first()
            if definition is None:
                known = session.scalar(select(func.count()).where(ProcessDefinition.process_key == process_key))
                raise NotFound(f"process {process_key!r} has no version {version}" if known
                               else f"no process definition with key {process_key!r}")
        return definition

    def diff(self, process_key: str, from_version: int, to_version: int) -> dict:
        """What changed in ``process_key`` from one version to another (either order):
        ``{process_key, from, to, added, removed, changed, forms}`` as in
        ``definitions.versiondiff.version_diff``. NotFound for an unknown key or version."""
        before, after = self.version(process_key, from_version), self.version(process_key, to_version)
        result = version_diff(process_key, self.files(before.id), self.files(after.id))
        return {"process_key": process_key, "from": from_version, "to": to_version, **result}

    def history(self, process_key: str | None = None) -> list[dict]:
        """Every version (of ``process_key``, or of all keys), oldest first, as ``{process_key,
        name, version, definition_id, deployed_at, deployed_by, note, running}``; ``running``
        counts its instances not completed or terminated (running, waiting, error)."""
        with self.db.read() as session:
            query = select(ProcessDefinition).order_by(ProcessDefinition.process_key, ProcessDefinition.version)
            if process_key is not None:
                query = query.where(ProcessDefinition.process_key == process_key)
            rows = list(session.scalars(query))
            running = dict(session.execute(
                select(ProcessInstance.definition_id, func.count())
                .where(ProcessInstance.status.not_in(ENDED_STATUSES)).group_by(ProcessInstance.definition_id)).all())
        return [dict(process_key=d.process_key, name=d.name, version=d.version, definition_id=d.id,
                     deployed_at=d.deployed_at, deployed_by=d.deployed_by, note=d.note,
                     running=running.get(d.id, 0)) for d in rows]

    def summary(self) -> list[dict]:
        """One row per process key, by key: its latest version's ``{process_key, name,
        latest_version, definition_id, deployed_at, deployed_by, note}``, ``running`` (the
        versions with running instances, newest first: ``[{version, count}]``) and
        ``running_total``."""
        rows: dict[str, dict] = {}
        for entry in self.history():
            row = rows.setdefault(entry["process_key"], {"running": [], "running_total": 0})
            row.update({key: entry[key] for key in ("process_key", "name", "definition_id", "deployed_at",
                                                    "deployed_by", "note")}, latest_version=entry["version"])
            if entry["running"]:
                row["running"].insert(0, {"version": entry["version"], "count": entry["running"]})
                row["running_total"] += entry["running"]
        return list(rows.values())


def first_start_time(expression: str, now: datetime) -> tuple[datetime, dict | None]:
    """Due time of a timer start event deployed at ``now``, and the repeat rule of a cycle.

    The expression was checked at deploy to be a literal ISO 8601 date, duration or cycle.
    Returns ``(due, None)`` or ``(first_due, {"cycles": n (-1 = forever), "seconds": s})``.
    """
    value = ast.literal_eval(expression)
    if value.upper().startswith("R"):
        cycles, start, duration = TimerEventDefinition.parse_iso_recurring_interval(value)
        start = start if start > now else now + duration
        return start, {"cycles": cycles, "seconds": duration.total_seconds()}
    if value.upper().startswith("P"):
        parsed = TimerEventDefinition.parse_iso_duration(value)
        return now + TimerEventDefinition.get_timedelta_from_start(parsed, now), None
    return TimerEventDefinition.get_datetime(value), None


def next_start_time(due: datetime, repeat: dict, now: datetime) -> tuple[datetime, dict] | None:
    """The next due time of a start cycle after one firing at ``now``, or None when the
    cycles are used up. Periods missed while no worker ran are skipped (and counted), so a
    late worker starts one instance, not one per missed period."""
    cycles, step = repeat["cycles"], timedelta(seconds=repeat["seconds"])
    # Counted, not looped: a year of downtime under "R10000/PT0.5S" would be 63 million turns.
    used = 1 + max(0, (now - due) // step)
    following = due + step * used
    if cycles > 0 and cycles - used <= 0:
        return None
    return following, {**repeat, "cycles": cycles - used if cycles > 0 else -1}
