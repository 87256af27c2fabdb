"""open_investigation is handed its target and starts nothing; the target keys the cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from s3forensics.config import notebook_cache_dir
from s3forensics.errors import ParameterError
from s3forensics.investigation import Target, open_investigation

# Account ids from the documentation's example range, not real accounts.
THEIRS, OURS = "111122223333", "444455556666"


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("S3FORENSICS_HOME", str(tmp_path))
    monkeypatch.delenv("S3FORENSICS_CACHE", raising=False)


def test_the_target_names_the_cache_and_adds_its_accounts() -> None:
    inv = open_investigation([], [], "2026-11-16T00:00:00Z", "2026-11-17", target=Target("acme", (THEIRS, OURS)), own_accounts=(OURS,))
    assert inv.cache_dir == notebook_cache_dir("acme")
    assert inv.cache_dir.name == "acme"
    assert inv.own_accounts == (OURS, THEIRS)
    assert inv.reports == {}


def test_without_a_target_it_reads_a_real_account_and_its_own_cache() -> None:
    inv = open_investigation([], [], "2026-11-16T00:00:00Z", "2026-11-17T00:00:00Z")
    assert inv.cache_dir == notebook_cache_dir() and inv.cache_dir.name == "default"
    assert inv.cache_dir != notebook_cache_dir("sandbox")
    assert inv.own_accounts == ()


def test_a_window_that_ends_first_is_refused() -> None:
    with pytest.raises(ParameterError, match=r"END \(2026-11-16T00:00:00\+00:00\) must be after START"):
        open_investigation([], [], "2026-11-17T00:00:00Z", "2026-11-16T00:00:00Z")


@pytest.mark.parametrize("name", ["", "..", "../other", "a/b", "sandbox\n"])
def test_a_cache_target_is_a_plain_name(name: str) -> None:
    with pytest.raises(ValueError, match="plain name"):
        notebook_cache_dir(name)
