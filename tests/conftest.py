"""Shared fixtures: an offline AWS environment, the sandbox, the corpus and the demo world.

Nothing here reaches AWS or the internet. Before any test runs, the AWS configuration
chain is pointed away from real credentials and at a dead loopback port, so a call that
escapes the sandbox fails at once instead of leaving the machine.
"""

from __future__ import annotations

import os
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("S3FORENSICS_CORPUS", ROOT.parent / "shared" / "corpus"))

#: Demo world parameters every test shares (small enough to keep the suite quick).
DEMO_DAYS = 7
DEMO_SEED = 7

_OFFLINE_ENV = {
    "AWS_ACCESS_KEY_ID": "sandbox",
    "AWS_SECRET_ACCESS_KEY": "sandbox",
    "AWS_SESSION_TOKEN": "sandbox",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
    # Port 9 (discard) on loopback: nothing listens, so a stray call fails fast.
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
}


@pytest.fixture(scope="session", autouse=True)
def offline_aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Point boto3 away from real AWS, and give the kit a private home folder."""
    saved = {name: os.environ.get(name) for name in (*_OFFLINE_ENV, "AWS_PROFILE", "S3FORENSICS_HOME", "S3FORENSICS_CACHE")}
    os.environ.update(_OFFLINE_ENV)
    os.environ.pop("AWS_PROFILE", None)
    os.environ["S3FORENSICS_HOME"] = str(tmp_path_factory.mktemp("s3forensics-home"))
    os.environ.pop("S3FORENSICS_CACHE", None)
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="session")
def sandbox(offline_aws: None) -> Iterator["object"]:
    """The seeded sandbox account for the whole session; AWS_ENDPOINT_URL points at it."""
    from s3forensics import sandbox as sb

    state = sb.start(seed=True)
    previous = os.environ.get("AWS_ENDPOINT_URL")
    os.environ.update(state.env())
    try:
        yield state
    finally:
        sb.stop()
        if previous is not None:
            os.environ["AWS_ENDPOINT_URL"] = previous


@pytest.fixture()
def fresh_sandbox(sandbox: "object") -> "object":
    """The sandbox reset to its freshly seeded state, for tests that change AWS state."""
    _reset(sandbox)
    return sandbox


def _reset(state: "object") -> None:
    """Wipe the moto server's state and seed the demo account again."""
    from s3forensics import sandbox as sb

    request = urllib.request.Request(f"{state.endpoint}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10):  # noqa: S310 (loopback)
        pass
    sb.seed_demo_account(state)


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """``../shared/corpus`` (real public samples); skips where it is absent."""
    if not CORPUS.is_dir():
        pytest.skip(f"public sample corpus not found at {CORPUS} (set S3FORENSICS_CORPUS)")
    return CORPUS


@pytest.fixture(scope="session")
def demo_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo world's raw logs and ground truth, generated once per session."""
    from s3forensics.demo.generate import generate

    out = tmp_path_factory.mktemp("demo-world")
    generate(out, days=DEMO_DAYS, seed=DEMO_SEED)
    return out


@pytest.fixture(scope="module")
def demo_sandbox(sandbox: "object", demo_world: Path) -> "object":
    """The sandbox reset to its seed and holding exactly the demo world's logs.

    Module-scoped: other modules may have left their own logs (or their own demo world in
    the home folder), so each module that uses it starts from the seed, the demo world
    and an empty sandbox cache.
    A module that uses it must not also reset the sandbox.
    """
    import shutil

    from s3forensics import sandbox as sb
    from s3forensics.config import home_dir, notebook_cache_dir
    from s3forensics.demo.generate import upload

    _reset(sandbox)
    # As `s3forensics demo` leaves it: the world's files (and ground truth) in the home
    # folder, the same files in the sandbox, and no cache from another world.
    local = home_dir() / "demo-world"
    shutil.rmtree(local, ignore_errors=True)
    shutil.copytree(demo_world, local)
    upload(local, session=sb.boto_session(sandbox))
    shutil.rmtree(notebook_cache_dir(sandbox=True), ignore_errors=True)
    return sandbox
