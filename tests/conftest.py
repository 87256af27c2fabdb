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
def sandbox(offline_aws: None) -> Iterator[object]:
    """The seeded sandbox account for the whole session; AWS_ENDPOINT_URL points at it."""
    from s3forensics.lab import sandbox as sb

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
def fresh_sandbox(sandbox: object) -> object:
    """The sandbox reset to its freshly seeded state, for tests that change AWS state."""
    _reset(sandbox)
    return sandbox


def _reset(state: object) -> None:
    """Wipe the moto server's state and seed the demo account again."""
    from s3forensics.lab import sandbox as sb

    request = urllib.request.Request(f"{state.endpoint}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10):
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
    from s3forensics.lab.demo.generate import generate

    out = tmp_path_factory.mktemp("demo-world")
    generate(out, days=DEMO_DAYS, seed=DEMO_SEED)
    return out


class DemoAccount:
    """The sandbox holding exactly the demo world, seeded again only when something else touched it.

    Seeding costs a reset and an upload of the whole world, so it is done once and again only
    after a test outside the notebooks used the sandbox (``pytest_runtest_setup`` below marks
    it dirty). Tests that use the demo account and change it undo their change themselves.
    """

    dirty = True

    def __init__(self, sandbox: object, world: Path) -> None:
        self.sandbox = sandbox
        self.world = world

    def ready(self) -> object:
        """The sandbox, reset and loaded with the demo world if anything may have changed it."""
        import shutil

        from s3forensics.config import home_dir, notebook_cache_dir
        from s3forensics.lab import sandbox as sb
        from s3forensics.lab.demo.generate import upload

        if DemoAccount.dirty:
            _reset(self.sandbox)
            # As `s3forensics demo` leaves it: the world's files (and ground truth) in the home
            # folder, the same files in the sandbox, and no cache from another world.
            local = home_dir() / "demo-world"
            shutil.rmtree(local, ignore_errors=True)
            shutil.copytree(self.world, local)
            upload(local, session=sb.boto_session(self.sandbox))
            shutil.rmtree(notebook_cache_dir("sandbox"), ignore_errors=True)
            DemoAccount.dirty = False
        return self.sandbox


#: Fixtures whose users keep the demo account as they found it.
_DEMO_FIXTURES = {"demo_sandbox", "demo_account", "default_runs"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that uses the sandbox is marked ``sandbox``, so ``make test-fast`` leaves it out."""
    for item in items:
        if "sandbox" in getattr(item, "fixturenames", ()) and item.get_closest_marker("sandbox") is None:
            item.add_marker(pytest.mark.sandbox)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A test that uses the sandbox any other way may change it: seed the demo account again after."""
    names = set(getattr(item, "fixturenames", ()))
    if "sandbox" in names and not names & _DEMO_FIXTURES:
        DemoAccount.dirty = True


@pytest.fixture(scope="session")
def demo_account(sandbox: object, demo_world: Path) -> DemoAccount:
    """The demo account (sandbox + demo world) for the whole session."""
    return DemoAccount(sandbox, demo_world)


@pytest.fixture()
def demo_sandbox(demo_account: DemoAccount) -> object:
    """The sandbox holding exactly the demo world (seeded again only when it may have changed)."""
    return demo_account.ready()
