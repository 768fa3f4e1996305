"""The audit key: the secret that signs every chain link and every checkpoint.

The key never lives in the database. Whoever can write the database can then delete, edit
or recompute rows, but cannot produce a link that verifies: a plain SHA-256 chain can be
recomputed by anyone who reads this code, an HMAC-SHA256 chain only by the key's holder.

Each link stores the id of the key that signed it (``key_id``, derived from the key, so it
reveals nothing). Rotation is therefore possible: a new current key signs new links while
retired keys, passed as ``retired``, still verify old ones. Baoxue's settings supply one
key today (``BAOXUE_AUDIT_KEY`` or ``var/audit_key``); a setting for retired keys is a
documented gap (README "The audit record").
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Iterable

KEYED = "hmac-sha256"     # links written since engine migration 0005
LEGACY = "sha256"         # links written before it: plain SHA-256, recomputable by anyone
MIN_KEY_BYTES = 16


@dataclass(frozen=True)
class AuditKey:
    secret: bytes

    @property
    def key_id(self) -> str:
        """16 hex digits naming the key (a hash of it: safe to store and print)."""
        return hashlib.sha256(b"baoxue-audit-key-id\x00" + self.secret).hexdigest()[:16]

    def mac(self, text: str) -> str:
        """HMAC-SHA256 of ``text`` (UTF-8) as 64 hex digits."""
        return hmac.digest(self.secret, text.encode(), "sha256").hex()


class AuditKeyring:
    """The current key (signs) and any retired keys (verify only), looked up by key id.

    ``current`` and each retired key: bytes or str (UTF-8), at least 16 bytes; raises
    ValueError otherwise, since a short key can be guessed from the chain itself."""

    def __init__(self, current: bytes | str, retired: Iterable[bytes | str] = ()):
        self.current = _key(current)
        self._by_id = {key.key_id: key for key in [*map(_key, retired), self.current]}

    def get(self, key_id: str | None) -> AuditKey | None:
        return self._by_id.get(key_id or "")


def as_keyring(value) -> AuditKeyring:
    """An ``AuditKeyring`` from a keyring, bytes or str (``EngineConfig.audit_key``)."""
    if isinstance(value, AuditKeyring):
        return value
    if value is None or value == b"" or value == "":
        raise ValueError("an audit key is required (EngineConfig.audit_key; Baoxue: BAOXUE_AUDIT_KEY "
                         "or var/audit_key): without it the audit chain could be recomputed by anyone")
    return AuditKeyring(value)


def _key(value: bytes | str) -> AuditKey:
    secret = value.encode() if isinstance(value, str) else bytes(value)
    if len(secret) < MIN_KEY_BYTES:
        raise ValueError(f"the audit key must be at least {MIN_KEY_BYTES} bytes long")
    return AuditKey(secret)
