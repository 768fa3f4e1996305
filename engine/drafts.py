"""Drafts: the diagram and forms an administrator is editing, stored but never run.

A draft holds text files (one BPMN file and the form JSON files it brings) and the version
it started from. Saving checks only that the files are storable (names, kinds, sizes): a
half-drawn diagram must survive a reload. ``check`` is the deploy's own validation, run
dry; ``deploy`` validates and stores a new version with a required note, resolving called
processes and forms first from what runs now (``Repository.latest_sources``), and marks
the draft deployed. Every save and deploy records who and when (row and definitions chain).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Mapping

from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from .audit import DEFINITIONS_STREAM, append_event
from .definitions.diagram import bpmn_processes
from .errors import Conflict, InvalidInput, NotFound
from .persistence.models import DefinitionDraft, ProcessDefinition

MAX_DRAFT_BYTES = 5 * 1024 * 1024          # all files of one draft, UTF-8
MAX_FILES = 40
NOTE_MAX = 2000
_NAME = re.compile(r"^[A-Za-z0-9_\-][A-Za-z0-9_.\-]{0,120}$")
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-.]{0,254}$")


@dataclass(frozen=True)
class DraftView:
    id: int
    process_key: str
    title: str
    base_version: int | None
    files: dict[str, str]
    created_by: str | None
    created_at: datetime
    updated_by: str | None
    updated_at: datetime
    row_version: int
    deployed_version: int | None

    def to_dict(self, with_files: bool = True) -> dict:
        data = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "files"}
        if with_files:
            data["files"] = self.files
        else:
            data["file_names"] = sorted(self.files)
        return data


class DraftService:
    def __init__(self, engine):
        self.db, self.clock, self.repository = engine.db, engine.clock, engine.repository

    # -- read -----------------------------------------------------------------------------
    def list(self, process_key: str | None = None, *, include_deployed: bool = False) -> list[DraftView]:
        """Drafts, newest change first; of one process key if given. Deployed drafts only
        with ``include_deployed`` (they stay as the record of what was deployed)."""
        query = select(DefinitionDraft).order_by(DefinitionDraft.updated_at.desc(), DefinitionDraft.id.desc())
        if process_key is not None:
            query = query.where(DefinitionDraft.process_key == process_key)
        if not include_deployed:
            query = query.where(DefinitionDraft.deployed_definition_id.is_(None))
        with self.db.read() as session:
            return [self._view(session, row) for row in session.scalars(query)]

    def get(self, draft_id: int) -> DraftView:
        """One draft with its files. NotFound (404) for an unknown id."""
        with self.db.read() as session:
            return self._view(session, self._row(session, draft_id))

    # -- write ----------------------------------------------------------------------------
    def create(self, process_key: str, files: Mapping[str, str], *, actor: str | None,
               title: str | None = None, base_version: int | None = None) -> DraftView:
        """A new draft. ``files``: {file name: text}; ``base_version`` the version it starts
        from (None: a process not deployed yet). InvalidInput (422, ``errors`` by field) for
        a bad key, title, file name or kind, or files above MAX_DRAFT_BYTES; NotFound (404)
        for an unknown base version."""
        process_key = _checked_key(process_key)
        files = _checked_files(files)
        now = self.clock()
        with self.db.transaction() as session:
            base_id = self._base_id(session, process_key, base_version)
            row = DefinitionDraft(process_key=process_key, title=_checked_title(title, process_key),
                                  base_definition_id=base_id, files=json.dumps(files, ensure_ascii=False),
                                  created_by=actor, created_at=now, updated_by=actor, updated_at=now)
            session.add(row)
            session.flush()
            self._audit(session, "draft_saved", row, actor, now)
            return self._view(session, row)

    def update(self, draft_id: int, *, row_version: int, actor: str | None,
               files: Mapping[str, str] | None = None, title: str | None = None) -> DraftView:
        """Replace a draft's files and/or title. ``row_version`` is the one the editor
        loaded: Conflict (409) when someone saved in between, or when the draft was deployed
        (it is then the record of that version). Same 422s as ``create``."""
        checked = _checked_files(files) if files is not None else None
        now = self.clock()
        try:
            with self.db.transaction() as session:
                row = self._row(session, draft_id)
                self._require_current(row, row_version)
                if checked is not None:
                    row.files = json.dumps(checked, ensure_ascii=False)
                if title is not None:
                    row.title = _checked_title(title, row.process_key)
                row.updated_by, row.updated_at = actor, now
                session.flush()
                self._audit(session, "draft_saved", row, actor, now)
                return self._view(session, row)
        except StaleDataError as exc:
            raise _stale(draft_id) from exc

    def delete(self, draft_id: int, *, row_version: int, actor: str | None) -> None:
        """Discard a draft not deployed. Conflict (409) if stale or deployed; NotFound (404)."""
        now = self.clock()
        try:
            with self.db.transaction() as session:
                row = self._row(session, draft_id)
                self._require_current(row, row_version)
                self._audit(session, "draft_discarded", row, actor, now)
                session.delete(row)
        except StaleDataError as exc:
            raise _stale(draft_id) from exc

    def check(self, draft_id: int) -> dict:
        """The deploy's validation of the draft, storing nothing (``Repository.check``), and
        ``ownership_problems``: a draft deploys its own process, no other."""
        draft = self.get(draft_id)
        report = self.repository.check(_as_bytes(draft.files), **self.sources())
        problems = self.ownership_problems(draft)
        if problems:
            report.update(valid=False, errors=[*problems, *report["errors"]])
        return report

    def ownership_problems(self, draft: DraftView) -> list[dict]:
        """Problems as the deploy's (``{file, element_id, line, message}``) when the draft's
        BPMN does not define its process key, or defines another key already deployed: a
        persuasion draft must not replace the process persuasion calls."""
        defined = {process.get("id"): (name, process) for name, process in bpmn_processes(_as_bytes(draft.files))
                   if process.get("isExecutable", "true") == "true"}
        problems = []
        if draft.process_key not in defined:
            name = next((n for n in draft.files if n.endswith(".bpmn")), None)
            problems.append({"file": name, "element_id": None, "line": None, "message": (
                f"草稿的流程文件没有定义流程 {draft.process_key}（流程标识不能修改）"
                f" (the draft must define process {draft.process_key})")})
        with self.db.read() as session:
            deployed = set(session.scalars(select(ProcessDefinition.process_key).where(
                ProcessDefinition.process_key.in_([k for k in defined if k != draft.process_key]))))
        for key in sorted(deployed):
            name, process = defined[key]
            problems.append({"file": name, "element_id": key, "line": process.sourceline, "message": (
                f"草稿定义了另一个已部署的流程 {key}：请在该流程自己的编辑页修改"
                f" (a draft of {draft.process_key} cannot deploy process {key})")})
        return problems

    def deploy(self, draft_id: int, *, note: str, row_version: int, actor: str | None):
        """Deploy the draft as new version(s) with ``note`` (required: why the work changed).

        Returns the ``DeployResult``. InvalidInput (422) for a missing note (``errors.note``)
        or invalid files (``errors``: [{file, element_id, line, message}]); Conflict (409)
        if the draft is stale or deployed already, or if its process was deployed by someone
        else since the draft's base version (the draft would silently undo their change)."""
        note = (note or "").strip()
        if not note:
            raise InvalidInput("部署说明必填 (a deploy note is required)", errors={"note": "部署说明必填"})
        if len(note) > NOTE_MAX:
            raise InvalidInput("部署说明过长", errors={"note": f"最多 {NOTE_MAX} 字"})
        draft = self.get(draft_id)
        if draft.row_version != row_version:
            raise _stale(draft_id)
        if draft.deployed_version is not None:
            raise Conflict(f"草稿已部署为版本 {draft.deployed_version} (draft {draft_id} was deployed)")
        self._require_base_is_latest(draft)
        problems = self.ownership_problems(draft)
        if problems:
            raise InvalidInput(f"草稿 {draft_id} 不能部署", errors=problems)
        results = self.repository.deploy(_as_bytes(draft.files), actor, note=note, **self.sources())
        mine = next((r for r in results if r.process_key == draft.process_key), None)
        try:
            with self.db.transaction() as session:
                row = self._row(session, draft_id)
                self._require_current(row, row_version)
                row.deployed_definition_id = mine.definition_id if mine else None
                row.updated_by, row.updated_at = actor, self.clock()
                self._audit(session, "draft_deployed", row, actor, row.updated_at,
                            version=mine.version if mine else None)
        except StaleDataError as exc:
            raise _stale(draft_id) from exc
        return results

    # -- helpers --------------------------------------------------------------------------
    def sources(self) -> dict:
        """Where a draft's deploy looks for called processes and forms: the newest deployed
        versions first, then the configured folders (``Repository.latest_sources``)."""
        latest = self.repository.latest_sources()
        return {"search_path": [latest, *self.repository.search_path],
                "form_dirs": [latest, *self.repository.form_dirs]}

    def _require_base_is_latest(self, draft: DraftView) -> None:
        with self.db.read() as session:
            latest = session.scalar(select(ProcessDefinition.version).where(
                ProcessDefinition.process_key == draft.process_key).order_by(ProcessDefinition.version.desc()))
        if latest is not None and draft.base_version != latest:
            raise Conflict(f"流程已有更新的版本 {latest}（本草稿基于版本 {draft.base_version}）：请基于最新版本重新编辑",
                           errors={"base_version": f"latest is {latest}"})

    @staticmethod
    def _row(session, draft_id: int) -> DefinitionDraft:
        row = session.get(DefinitionDraft, draft_id)
        if row is None:
            raise NotFound(f"草稿 {draft_id} 不存在 (no draft {draft_id})")
        return row

    @staticmethod
    def _require_current(row: DefinitionDraft, row_version: int) -> None:
        if row.deployed_definition_id is not None:
            raise Conflict(f"草稿 {row.id} 已部署，不能再修改 (draft {row.id} was deployed)")
        if row.row_version != row_version:
            raise _stale(row.id)

    @staticmethod
    def _base_id(session, process_key: str, base_version: int | None) -> int | None:
        if base_version is None:
            return None
        found = session.scalar(select(ProcessDefinition.id).where(
            ProcessDefinition.process_key == process_key, ProcessDefinition.version == base_version))
        if found is None:
            raise NotFound(f"流程 {process_key} 没有版本 {base_version} (no such version)")
        return found

    @staticmethod
    def _view(session, row: DefinitionDraft) -> DraftView:
        def version(definition_id):
            return session.get(ProcessDefinition, definition_id).version if definition_id else None
        return DraftView(row.id, row.process_key, row.title, version(row.base_definition_id), json.loads(row.files),
                         row.created_by, row.created_at, row.updated_by, row.updated_at, row.row_version,
                         version(row.deployed_definition_id))

    @staticmethod
    def _audit(session, kind: str, row: DefinitionDraft, actor, now, **extra) -> None:
        append_event(session, DEFINITIONS_STREAM, kind, at=now, actor=actor,
                     data={"draft_id": row.id, "process_key": row.process_key,
                           "files": sorted(json.loads(row.files)), **extra})


def _stale(draft_id: int) -> Conflict:
    return Conflict(f"草稿 {draft_id} 已被他人修改，请重新打开 (draft {draft_id} changed since it was loaded)",
                    errors={"row_version": "stale"})


def _checked_key(process_key) -> str:
    if not isinstance(process_key, str) or not _KEY.match(process_key):
        raise InvalidInput("流程标识无效 (invalid process key)",
                           errors={"process_key": "须以字母开头，只含字母、数字、_ - .，不超过 255 字符"})
    return process_key


def _checked_title(title, process_key: str) -> str:
    if title is None:
        return process_key
    if not isinstance(title, str) or not title.strip() or len(title) > 255:
        raise InvalidInput("草稿标题无效", errors={"title": "须为 1–255 字"})
    return title.strip()


def _checked_files(files) -> dict[str, str]:
    """{name: text} as given, or InvalidInput naming the file and the reason."""
    if not isinstance(files, Mapping) or not files:
        raise InvalidInput("草稿须包含文件", errors={"files": "须为 {文件名: 文本}，至少一个 .bpmn 文件"})
    if len(files) > MAX_FILES:
        raise InvalidInput("文件过多", errors={"files": f"最多 {MAX_FILES} 个文件"})
    total, bpmn = 0, 0
    for name, text in files.items():
        if not isinstance(name, str) or not _NAME.match(name) or ".." in name:
            raise InvalidInput("文件名无效", errors={"files": f"{name!r}: 只能含字母、数字、_ - .，不含目录"})
        if not name.endswith((".bpmn", ".json")):
            raise InvalidInput("文件类型无效", errors={"files": f"{name}: 只接受 .bpmn 与表单 .json 文件"})
        if not isinstance(text, str) or "\x00" in text:
            raise InvalidInput("文件内容须为文本", errors={"files": f"{name}: 内容须为不含 NUL 的字符串"})
        try:
            total += len(text.encode("utf-8"))
        except UnicodeEncodeError:
            raise InvalidInput("文件内容不是有效的 UTF-8 文本", errors={"files": f"{name}: 含无效字符"}) from None
        bpmn += name.endswith(".bpmn")
    if bpmn != 1:
        raise InvalidInput("草稿须恰好包含一个 .bpmn 文件", errors={"files": f"含 {bpmn} 个 .bpmn 文件"})
    if total > MAX_DRAFT_BYTES:
        raise InvalidInput("草稿过大", errors={"files": f"合计不超过 {MAX_DRAFT_BYTES // 1024 // 1024} MB"})
    return dict(files)


def _as_bytes(files: Mapping[str, str]) -> dict[str, bytes]:
    return {name: text.encode("utf-8") for name, text in files.items()}
