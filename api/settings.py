"""Configuration from the environment (CONTRACT.md "Configuration")."""
from __future__ import annotations

import os
import secrets
from datetime import date
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from .audit_key_guard import refuse_new_key_over_entries

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Settings:
    database_url: str = "sqlite:///var/baoxue.db"
    secret_key: str = ""
    timezone: str = "Asia/Shanghai"
    processes_dir: Path = ROOT / "processes"
    forms_dir: Path = ROOT / "forms"
    var_dir: Path = field(default_factory=lambda: Path("var"))
    max_upload_bytes: int = 5 * 1024 * 1024
    # Cookies' Secure flag: "auto" = when the request came over https, "1" = always, "0" = never.
    secure_cookies: str = "auto"
    # Reverse proxies in front that set X-Forwarded-For/-Proto (0: none, the client connects
    # directly). The login limits count by client address, which is the proxy's without this.
    proxies: int = 0
    check_hours: float = 24.0   # hours between the worker's consistency checks (BAOXUE_CHECK_HOURS)
    # The audit chains' HMAC key (never in the database) and the checkpoint file beside it:
    # README "The audit record".
    audit_key: str = ""
    audit_checkpoint_file: Path | None = None       # default: var_dir / audit-checkpoints.jsonl
    audit_checkpoint_minutes: float = 10.0
    # The day (MM-DD) the worker opens the school year's agreement campaign (issue 12), None: never
    # (BAOXUE_AGREEMENT_OPEN_DAY, "off" to leave it to the office).
    agreement_open_day: str | None = "09-01"

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        """Read ``BAOXUE_*`` variables; a missing secret key is generated into var/secret_key
        and a missing audit key into var/audit_key (both 0600), the audit key only while the
        database holds no audit entry (else ValueError: api/audit_key_guard.py)."""
        settings = cls(
            database_url=os.environ.get("BAOXUE_DATABASE_URL", cls.database_url),
            secret_key=os.environ.get("BAOXUE_SECRET_KEY", ""),
            timezone=os.environ.get("BAOXUE_TIMEZONE", cls.timezone),
            secure_cookies=os.environ.get("BAOXUE_SECURE_COOKIES", cls.secure_cookies).strip().lower(),
            proxies=_count(os.environ.get("BAOXUE_PROXIES", "0"), "BAOXUE_PROXIES"),
            check_hours=_positive_hours(os.environ.get("BAOXUE_CHECK_HOURS", str(cls.check_hours))),
            audit_key=os.environ.get("BAOXUE_AUDIT_KEY", ""),
            audit_checkpoint_file=_path_or_none(os.environ.get("BAOXUE_AUDIT_CHECKPOINT_FILE")),
            audit_checkpoint_minutes=_minutes(os.environ.get("BAOXUE_AUDIT_CHECKPOINT_MINUTES")),
            agreement_open_day=_month_day(os.environ.get("BAOXUE_AGREEMENT_OPEN_DAY", "09-01")),
        )
        for key, value in overrides.items():
            setattr(settings, key, value)
        if settings.database_url.startswith("sqlite:///") and not settings.database_url.startswith("sqlite:////"):
            Path(settings.database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        if settings.secure_cookies not in ("auto", "1", "0"):
            raise ValueError(f"BAOXUE_SECURE_COOKIES must be auto, 1 or 0, not {settings.secure_cookies!r}")
        _check_database_url(settings.database_url)
        _check_timezone(settings.timezone)
        _check_local_settings()
        if not settings.secret_key:
            settings.secret_key = _stored_secret(settings.var_dir / "secret_key")
        if not settings.audit_key:
            key_file = settings.var_dir / "audit_key"
            if not key_file.exists():
                refuse_new_key_over_entries(key_file, settings.database_url)
            settings.audit_key = _stored_secret(key_file)
        if settings.audit_checkpoint_file is None:
            settings.audit_checkpoint_file = settings.var_dir / "audit-checkpoints.jsonl"
        return settings


def _check_database_url(url: str) -> None:
    """SQLite or PostgreSQL through psycopg (ARCHITECTURE.md): anything else is a setting
    mistake, said as one, not a driver's traceback."""
    try:
        driver = make_url(url).drivername
    except ArgumentError:
        raise ValueError(f"BAOXUE_DATABASE_URL is not a database URL: {url.split('@')[-1]!r}") from None
    if driver not in ("sqlite", "postgresql+psycopg"):
        raise ValueError(f"BAOXUE_DATABASE_URL must be sqlite:///… or postgresql+psycopg://…, not {driver}://…")


def _check_local_settings() -> None:
    """The domain's local settings are read where they are used (a test may change them), so
    a wrong one would first fail inside a request or a worker's step; read them once here so
    that ``serve``, ``worker`` and every command refuse to start instead (ValueError naming the
    variable and its allowed values: ``ledger.local_rules``, ``ledger.document_settings``,
    ``ledger.home_teaching``)."""
    from ledger.document_settings import notice_settings
    from ledger.home_teaching import home_teaching_norm
    from ledger.local_rules import local_rules
    local_rules()
    notice_settings()
    home_teaching_norm()


def _check_timezone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"BAOXUE_TIMEZONE must be an IANA time zone such as Asia/Shanghai, not {name!r}") from None


def _count(raw: str, name: str) -> int:
    if not (raw.strip().isascii() and raw.strip().isdigit()) or int(raw) > 10:
        raise ValueError(f"{name} must be a whole number from 0 to 10, not {raw!r}")
    return int(raw)


def _positive_hours(raw: str) -> float:
    try:
        hours = float(raw)
    except ValueError:
        hours = 0.0
    if not 0 < hours <= 24 * 366:
        raise ValueError(f"BAOXUE_CHECK_HOURS must be a number of hours above 0 and at most {24 * 366}, not {raw!r}")
    return hours
def _path_or_none(value: str | None) -> Path | None:
    return Path(value) if value and value.strip() else None


def _month_day(value: str) -> str | None:
    """``MM-DD`` (a day that exists in every year), or None for "off"."""
    value = value.strip()
    if value.lower() == "off":
        return None
    try:
        month, day = (int(part) for part in value.split("-"))
        date(2001, month, day)
    except ValueError:
        raise ValueError(f"BAOXUE_AGREEMENT_OPEN_DAY must be MM-DD (e.g. 09-01) or off, not {value!r}") from None
    return f"{month:02d}-{day:02d}"


def _minutes(value: str | None) -> float:
    if value is None or not value.strip():
        return Settings.audit_checkpoint_minutes
    try:
        minutes = float(value)
    except ValueError:
        minutes = 0.0
    if not 0 < minutes <= 24 * 60:   # "inf" would never checkpoint; "nan" compares false
        raise ValueError(f"BAOXUE_AUDIT_CHECKPOINT_MINUTES must be a number of minutes above 0 and at most 1440, "
                         f"not {value!r}")
    return minutes


def _stored_secret(path: Path) -> str:
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # Create with owner-only permissions: the key signs every session (or every audit link).
    # Written aside, then linked into place: the server and its worker start together, and
    # the second to arrive must read the first one's key, never a half-written file.
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(key)
            handle.flush()
            os.fsync(handle.fileno())
        os.link(draft, path)
    except FileExistsError:
        return path.read_text().strip()
    finally:
        draft.unlink(missing_ok=True)
    return key
