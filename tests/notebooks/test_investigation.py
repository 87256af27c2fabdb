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


def test_outside_the_sandbox_no_demo_location_or_bucket_is_assumed() -> None:
    """The notebooks' defaults read the demo world only with SANDBOX; outside it a report
    names its logs and bucket, or stops with one sentence saying which parameter is missing."""
    from types import SimpleNamespace

    from s3forensics.errors import ParameterError
    from s3forensics.investigation import bucket_profile
    from s3forensics.lab.demo.job import notebook_sources, sandbox_default

    with pytest.raises(ParameterError, match="S3_ACCESS and CLOUDTRAIL are both empty"):
        notebook_sources([], [], False)
    assert notebook_sources("logs/s3", [], False) == (["logs/s3"], [], None)
    with pytest.raises(ParameterError, match="BUCKET is empty"):
        sandbox_default("", "s3f-demo-site", False, "BUCKET")
    assert sandbox_default("", "s3f-demo-data", False, "BUCKET", required=False) == ""
    assert sandbox_default("", "s3f-demo-site", True, "BUCKET") == "s3f-demo-site" == sandbox_default("s3f-demo-site", "x", False, "BUCKET")
    run = SimpleNamespace(profiles={"www": SimpleNamespace(profile="public_site")})
    assert bucket_profile(run, "www") == "public_site" and bucket_profile(run, "www", "cloudfront") == "cloudfront"
    assert bucket_profile(run, "other") == "private_data"
