"""The stand-in's signing keys: ES256 with ``kid``, kept in a private file under the instance folder.

Generated on first use, never committed. Rotation adds a new key that signs from then on while the old
one stays published (tokens it signed still verify); retiring removes it from the JWKS. The file is
re-read when it changes, so every gunicorn worker signs with the same key.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
from pathlib import Path
from typing import Any

from joserfc.jwk import ECKey, KeySet


class SigningKeys:
    """A rotating set of ES256 keys in one JSON file."""

    def __init__(self, path: Path, *, kid_prefix: str = "devidp"):
        self._path = path
        self._kid_prefix = kid_prefix
        self._lock = threading.Lock()
        self._loaded_mtime: float | None = None
        self._state: dict[str, Any] = {}

    def _load(self) -> dict[str, Any]:
        with self._lock:
            if not self._path.exists():
                self._create()
            mtime = self._path.stat().st_mtime
            if mtime != self._loaded_mtime:
                self._state = json.loads(self._path.read_text())
                self._loaded_mtime = mtime
            return self._state

    def _write(self, state: dict[str, Any]) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state))
        tmp.chmod(0o600)
        os.replace(tmp, self._path)
        self._state, self._loaded_mtime = state, self._path.stat().st_mtime

    def _create(self) -> None:
        """Write the first key file whole, once, even when several processes (gunicorn workers) start it."""
        kid, key = self._new_key()
        self._path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._path.with_name(f"{self._path.name}.{secrets.token_hex(6)}.tmp")
        tmp.write_text(json.dumps({"keys": [key.as_dict(private=True)], "signing_kid": kid}))
        tmp.chmod(0o600)
        try:
            os.link(tmp, self._path)  # atomic, and refused if another process's file is already there
        except FileExistsError:
            pass  # theirs signs: every process must use the same key
        finally:
            tmp.unlink()

    def _new_key(self) -> tuple[str, ECKey]:
        kid = f"{self._kid_prefix}-{secrets.token_hex(6)}"
        return kid, ECKey.generate_key("P-256", parameters={"kid": kid, "use": "sig", "alg": "ES256"}, private=True)

    def _add_key_locked(self) -> str:
        kid, key = self._new_key()
        state = json.loads(self._path.read_text())
        state["keys"].append(key.as_dict(private=True))
        state["signing_kid"] = kid
        self._write(state)
        return kid

    def signing_key(self) -> ECKey:
        """Return the key that signs new tokens."""
        state = self._load()
        data = next(k for k in state["keys"] if k["kid"] == state["signing_kid"])
        return ECKey.import_key(data)

    def public_jwks(self) -> dict[str, Any]:
        """Return the published JWKS (public halves only)."""
        return {"keys": [ECKey.import_key(k).as_dict(private=False) for k in self._load()["keys"]]}

    def public_key_set(self) -> KeySet:
        """Return the published keys as a joserfc key set."""
        return KeySet.import_key_set(self.public_jwks())

    def rotate(self) -> str:
        """Add a new signing key (the old ones stay published); return its kid."""
        self._load()
        with self._lock:
            return self._add_key_locked()

    def retire(self, kid: str) -> None:
        """Remove a key from the JWKS; tokens it signed stop verifying once relying parties refresh."""
        state = dict(self._load())
        if kid == state["signing_kid"]:
            raise ValueError("rotate to a new signing key before retiring the current one")
        with self._lock:
            state["keys"] = [k for k in state["keys"] if k["kid"] != kid]
            self._write(state)
