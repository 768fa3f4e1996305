"""What the editor's routes (process_editor) need from the engine: drafts and the dry run.

Drafts are the engine's (``engine.drafts``, table definition_draft); this module only reads
the request's draft fields and runs the deploy's validation without storing anything.
"""
from __future__ import annotations

from engine.definitions import validate_bundle
from engine.errors import EngineError, InvalidInput

MAX_TITLE = 255


class Unavailable(EngineError):
    status = 503


def service(engine):
    """The engine's draft service; 503 (nothing done) on an engine without one."""
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
    """The deploy's validation of ``files`` with the repository's settings (roles, forms/,
    processes/ as search path, the sandbox's compile check), nothing stored:
    ``{valid, errors, warnings: [{file, element_id, line, message}], processes: [{process_key,
    name, next_version}]}``."""
    repo = engine.repository
    bundle = validate_bundle({name: text.encode("utf-8") for name, text in files.items()},
                             known_roles=repo.known_roles, search_path=repo.search_path,
                             form_dirs=repo.form_dirs, check_compiles=repo.check_compiles,
                             protected_variables=repo.protected_variables)
    latest: dict[str, int] = {}
    for definition in repo.list():
        latest[definition.process_key] = max(latest.get(definition.process_key, 0), definition.version)
    return {"valid": not bundle.errors and bool(bundle.processes),
            "errors": [e.to_dict() for e in bundle.errors],
            "warnings": [w.to_dict() for w in bundle.warnings],
            "processes": [{"process_key": pid, "name": info.name, "next_version": latest.get(pid, 0) + 1}
                          for pid, info in sorted(bundle.processes.items())]}
