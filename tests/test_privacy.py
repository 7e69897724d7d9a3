"""Pseudonyms: the key (environment, then a private file) and the HMAC ids."""

from __future__ import annotations

import hashlib
import hmac
import os

import pytest

from analysis import privacy


def test_pseudonym_key_env_then_file(tmp_path, monkeypatch):
    monkeypatch.delenv(privacy.KEY_ENV, raising=False)
    key = privacy.pseudonym_key(tmp_path)
    path = tmp_path / "pseudonym.key"
    assert len(key) == 64 and oct(path.stat().st_mode & 0o777) == "0o600"
    assert privacy.pseudonym_key(tmp_path) == key  # kept: the same pseudonyms next month
    monkeypatch.setenv(privacy.KEY_ENV, "from-env")
    assert privacy.pseudonym_key(tmp_path) == b"from-env"
    with pytest.raises(ValueError):
        privacy.pseudonymous_ids(["a"], b"")
    assert os.environ[privacy.KEY_ENV] == "from-env"


def test_email_pseudonym_normalises_and_matches_hmac():
    want = "c_" + hmac.new(b"k", b"ann@example.com", hashlib.sha256).hexdigest()[:16]
    assert privacy.email_pseudonym("  Ann@Example.COM ", b"k") == want
    assert privacy.email_pseudonym("bob@example.com", b"k") != want
