"""The stand-in's key file, created on first use, is never seen without its signing key by another process.

Found by the crash matrix (tests/deployed/test_crash_matrix.py): the first logins of a fresh deployment
arrive at both gunicorn workers at once; one worker wrote an empty key file and then added the key, and
the other read the file in between and failed to sign the ID token (StopIteration, a 500 at /auth/callback).
"""

from __future__ import annotations

import os

from identity.devidp import keys as keys_module
from identity.devidp.keys import SigningKeys


def test_a_second_process_looking_the_moment_the_key_file_appears_finds_its_signing_key(tmp_path, monkeypatch):
    path = tmp_path / "devidp_keys.json"
    first, other_worker = SigningKeys(path), SigningKeys(path)  # two processes: two instances, two locks
    seen: list[str] = []

    def looking_when_it_appears(real):
        def call(source, target, *args, **kwargs):
            existed = os.path.exists(target)
            real(source, target, *args, **kwargs)
            if not existed and os.fspath(target) == os.fspath(path):
                seen.append(other_worker.signing_key().kid)  # the other worker reads it this very moment
        return call

    monkeypatch.setattr(keys_module.os, "replace", looking_when_it_appears(os.replace))
    monkeypatch.setattr(keys_module.os, "link", looking_when_it_appears(os.link))
    kid = first.signing_key().kid
    assert seen == [kid]
    assert SigningKeys(path).signing_key().kid == kid
