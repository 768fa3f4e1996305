"""What the editor's routes (process_editor) need from the engine: drafts and the dry run.

Drafts are the engine's (``engine.drafts``, table definition_draft); this module only reads
the request's draft fields and runs the deploy's validation without storing anything.
"""
from __future__ import annotations

from engine.errors import EngineError, InvalidInput

from ..zh_messages import zh_deploy_report

from .common import local_time

MAX_TITLE = 255


class Unavailable(EngineError):
    status = 503


def service(engine):
    """The engine's draft service (engine.drafts.DraftService); 503 on an engine without one."""
    drafts = getattr(engine, "drafts", None)
    if drafts is None:
        raise Unavailable("drafts are not available in this engine", errors={"drafts": "草稿服务未启用"})
    return drafts


def files_of(body: dict) -> dict[str, str]:
    """``body["files"]``: {file name: text}, at least one file; 422 naming the bad entry."""
    files = body.get("files")
    if not isinstance(files, dict) or not files:
        raise InvalidInput("files must be an object {name: text}", errors={"files": "应为 {文件名: 内容}，至少一个文件"})
    for name, text in files.items():
        if not name or "/" in name or "\\" in name or not isinstance(text, str):
            raise InvalidInput(f"bad file {name!r}", errors={"files": f"文件 {name} 的名称或内容不正确"})
    return files


def title_of(body: dict) -> str:
    title = body.get("title")
    if not isinstance(title, str) or not title.strip() or len(title) > MAX_TITLE:
        raise InvalidInput("title is required", errors={"title": f"请填写草稿名称（不超过 {MAX_TITLE} 字）"})
    return title.strip()


def dry_run(engine, files: dict[str, str]) -> dict:
    """The deploy's validation of ``files``, nothing stored, with called processes and forms
    resolved as a draft's deploy resolves them (the newest deployed versions first, then
    processes/ and forms/): ``{valid, errors, warnings: [{file, element_id, line, message}],
    processes: [{process_key, name, current_version, next_version}]}`` (Repository.check)."""
    sources = service(engine).sources()   # the draft deploy's own resolution, so the dry run agrees with it
    report = engine.repository.check({name: text.encode("utf-8") for name, text in files.items()}, **sources)
    return zh_deploy_report(report)


def view(draft) -> dict:
    """A DraftView as JSON: times in ISO 8601 (UTC), and ``updated_at_local`` the last change as
    pages show times ("YYYY-MM-DD HH:MM" in BAOXUE_TIMEZONE, common.local_time)."""
    data = draft.to_dict()
    for key in ("created_at", "updated_at"):
        data[key] = data[key].isoformat() if data[key] else None
    data["updated_at_local"] = local_time(draft.updated_at)
    return data


def deployed(results) -> dict:
    """A DeployResult as the REST deploy answers it: {processes, warnings}."""
    return {"processes": [r.to_dict() for r in results], "warnings": results.warnings}
