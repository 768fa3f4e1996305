"""Failed sign-ins: who must wait before the next try, counted in the database.

Every server process, the pages' ``POST /login`` and the API's ``POST /api/v1/auth/token``
share these counts (they are rows, not process memory). The policy follows NIST SP 800-63B
§3.2.2 (rate limiting without letting an attacker lock out the subscriber) and OWASP's
"Slow down online guessing attacks with device cookies": an attacker must be slowed down,
and must never be able to keep the real user out.

A sign-in comes from a *source*: a trusted device of that user (a browser holding a device
cookie from an earlier successful sign-in of that user), else a trusted address (one the
user signed in from before, within ``TRUST_FOR``), else an untrusted one. Limits:

* trusted device: ``DEVICE_LIMIT`` failures of that user on that device in ``WINDOW``, then
  that device waits; nothing else applies (someone sharing the address cannot touch it);
* (username, address) pair without a trusted device: ``PAIR_LIMIT`` failures in ``WINDOW``,
  then that pair waits until the oldest of them is ``WINDOW`` old;
* untrusted only, per username: from the ``USER_FREE``-th untrusted failure in ``USER_WINDOW``
  on, each further try waits ``USER_BASE_DELAY`` × 2^(n − ``USER_FREE``) after the latest,
  at most ``USER_MAX_DELAY`` (a growing delay, never a lock: trusted sources are not slowed);
* untrusted only, per address: after failures for ``ADDRESS_LIMIT`` *distinct* usernames in
  ``ADDRESS_WINDOW`` (name guessing, password spraying), untrusted tries from that address
  wait. A school behind one NAT address: its people's typos count once per name, and people
  who signed in there before are trusted and never wait for it.

A try that must wait is not checked and not counted. A try is counted *before* its password
is checked (and the count withdrawn when it succeeds), so parallel tries see each other.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .throttle_models import LoginFailure, LoginTrust

WINDOW = timedelta(minutes=15)
PAIR_LIMIT = 5
DEVICE_LIMIT = 10
USER_WINDOW = timedelta(hours=24)
USER_FREE = 10
USER_BASE_DELAY = timedelta(seconds=30)
USER_MAX_DELAY = timedelta(minutes=15)
ADDRESS_WINDOW = timedelta(hours=1)
ADDRESS_LIMIT = 100
TRUST_FOR = timedelta(days=90)
KEEP = max(WINDOW, USER_WINDOW, ADDRESS_WINDOW)   # older failures count for nothing: pruned


@dataclass(frozen=True)
class Attempt:
    """Who tries from where: ``username`` as typed, ``address`` the client's IP, ``device`` the
    device cookie's secret (None without one)."""

    username: str
    address: str
    device: str | None = None

    @property
    def key(self) -> str:
        """The username as counted: trimmed, case-folded, at most 120 characters."""
        return self.username.strip().casefold()[:120]

    @property
    def device_hash(self) -> str | None:
        return hashlib.sha256(self.device.encode()).hexdigest() if self.device else None


@dataclass(frozen=True)
class Verdict:
    """``wait`` (a timedelta) when the try must wait, with ``reason`` (device|pair|user|address)."""

    wait: timedelta | None = None
    reason: str | None = None
    source: str = "untrusted"   # device|address|untrusted

    @property
    def allowed(self) -> bool:
        return self.wait is None

    @property
    def retry_after(self) -> int:
        """Whole seconds to wait (for the Retry-After header), at least 1."""
        return max(1, -int(-(self.wait or timedelta()).total_seconds() // 1))


def begin(session: Session, attempt: Attempt, now: datetime) -> Verdict:
    """Decide whether ``attempt`` may be checked now; if so count it as a failure already
    (``succeeded`` withdraws it). Runs in the caller's transaction."""
    source = _source(session, attempt, now)
    wait, reason = _wait(session, attempt, source, now)
    if wait is not None:
        return Verdict(wait, reason, source)
    session.execute(delete(LoginFailure).where(LoginFailure.at < now - KEEP))
    session.add(LoginFailure(at=now, username=attempt.key, address=attempt.address[:64],
                             device=attempt.device_hash if source == "device" else None,
                             trusted=source != "untrusted"))
    return Verdict(source=source)


def succeeded(session: Session, attempt: Attempt, now: datetime) -> None:
    """The password was right: withdraw this try and the earlier failures of this user from this
    address or device (their own typos), and trust the address and the device from now on."""
    same_place = LoginFailure.address == attempt.address[:64]
    if attempt.device_hash:
        same_place = same_place | (LoginFailure.device == attempt.device_hash)
    session.execute(delete(LoginFailure).where(LoginFailure.username == attempt.key, same_place))
    _trust(session, attempt.key, "address", attempt.address[:64], now)
    if attempt.device_hash:
        _trust(session, attempt.key, "device", attempt.device_hash, now)


def _source(session: Session, attempt: Attempt, now: datetime) -> str:
    trusted = select(LoginTrust.kind).where(LoginTrust.username == attempt.key,
                                            LoginTrust.last_success_at > now - TRUST_FOR)
    kinds = set(session.scalars(trusted.where(
        ((LoginTrust.kind == "address") & (LoginTrust.value == attempt.address[:64]))
        | ((LoginTrust.kind == "device") & (LoginTrust.value == (attempt.device_hash or ""))))))
    return "device" if "device" in kinds else "address" if "address" in kinds else "untrusted"


def _wait(session: Session, attempt: Attempt, source: str, now: datetime) -> tuple[timedelta | None, str | None]:
    user = LoginFailure.username == attempt.key
    if source == "device":
        return _window_wait(session, user & (LoginFailure.device == attempt.device_hash), DEVICE_LIMIT, now), "device"
    wait = _window_wait(session, user & (LoginFailure.address == attempt.address[:64])
                        & LoginFailure.device.is_(None), PAIR_LIMIT, now)
    if wait is not None or source == "address":
        return wait, "pair" if wait is not None else None
    count, latest = session.execute(select(func.count(), func.max(LoginFailure.at)).where(
        user, LoginFailure.trusted.is_(False), LoginFailure.at > now - USER_WINDOW)).one()
    if count >= USER_FREE:
        delay = min(USER_BASE_DELAY * 2 ** min(count - USER_FREE, 16), USER_MAX_DELAY)
        if latest + delay > now:
            return latest + delay - now, "user"
    here = (LoginFailure.address == attempt.address[:64]) & (LoginFailure.at > now - ADDRESS_WINDOW)
    names, oldest = session.execute(select(func.count(LoginFailure.username.distinct()),
                                           func.min(LoginFailure.at)).where(here)).one()
    if names >= ADDRESS_LIMIT:
        return oldest + ADDRESS_WINDOW - now, "address"
    return None, None


def _window_wait(session: Session, where, limit: int, now: datetime) -> timedelta | None:
    """With ``limit`` or more failures matching ``where`` in the last ``WINDOW``: how long
    until the oldest of the latest ``limit`` leaves it; else None."""
    times = session.scalars(select(LoginFailure.at).where(where, LoginFailure.at > now - WINDOW)
                            .order_by(LoginFailure.at.desc()).limit(limit)).all()
    if len(times) < limit:
        return None
    return times[-1] + WINDOW - now


def _trust(session: Session, username: str, kind: str, value: str, now: datetime) -> None:
    row = session.scalar(select(LoginTrust).where(LoginTrust.username == username, LoginTrust.kind == kind,
                                                  LoginTrust.value == value))
    if row is not None:
        row.last_success_at = now
        return
    try:
        with session.begin_nested():   # a parallel first sign-in from here may insert it first
            session.add(LoginTrust(username=username, kind=kind, value=value, last_success_at=now))
    except IntegrityError:
        pass
