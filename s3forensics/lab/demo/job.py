"""The main job on the embedded default (``make demo``).

Start the sandbox, generate and upload the demo world, run every notebook against it with
papermill, render the reports, stop the sandbox, and return the report paths.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

from s3forensics.config import home_dir, notebook_cache_dir
from s3forensics.errors import NotebookError, ParameterError
from s3forensics.investigation import Target
from s3forensics.lab import sandbox
from s3forensics.reports import Report, list_notebooks, run_report

log = logging.getLogger(__name__)


def prepare_demo_world(days: int = 7, seed: int = 7) -> tuple[sandbox.SandboxState, Path, bool]:
    """Ensure the sandbox runs and holds the demo world; export its environment.

    Returns:
        The sandbox state, the local demo-world folder, and whether this call started it.
    """
    from s3forensics.lab.demo.generate import generate, upload

    already = sandbox.status()[0] == "running"
    state = sandbox.start(seed=True)
    os.environ.update(state.env())
    world_dir = home_dir() / "demo-world"
    generate(world_dir, days=days, seed=seed)
    upload(world_dir, session=sandbox.boto_session(state))
    # The sandbox's Parquet cache may hold another world (other seed or days): start afresh.
    shutil.rmtree(notebook_cache_dir("sandbox"), ignore_errors=True)
    return state, world_dir, not already


def use_sandbox(days: int = 7, seed: int = 7) -> Target:
    """The notebooks' offline default: the sandbox account holding the demo world.

    Starts the sandbox and uploads the demo world unless a sandbox is running, exports the
    sandbox's environment (endpoint, region, test credentials) so that AWS clients reach it,
    and returns the target to hand to :func:`~s3forensics.investigation.open_investigation`.
    """
    from s3forensics.lab.demo.world import ACCOUNT_ID

    current, state = sandbox.status()
    if current == "running" and state is not None:
        os.environ.update(state.env())
    else:
        prepare_demo_world(days=days, seed=seed)
    return Target(name="sandbox", own_accounts=(ACCOUNT_ID,))


#: The demo world's log locations in the sandbox account.
DEMO_S3_ACCESS = ("s3://s3f-demo-logs/s3-access/",)
DEMO_CLOUDTRAIL = ("s3://s3f-demo-cloudtrail/AWSLogs/",)


def notebook_sources(
    s3_access: Sequence[str] | str | None, cloudtrail: Sequence[str] | str | None, use_the_sandbox: bool
) -> tuple[list[str], list[str], Target | None]:
    """The log locations and account a notebook reads, from its parameters.

    With ``SANDBOX`` true the sandbox runs (started when needed) and, when neither location
    is given, the demo world's logs are read. With ``SANDBOX`` false nothing of the demo
    world is assumed: at least one location must be given (folders or ``s3://``), read with
    the standard AWS chain or from disk.

    Raises:
        ParameterError: ``SANDBOX`` false and no location given.
    """
    s3 = [s3_access] if isinstance(s3_access, str) else list(s3_access or [])
    ct = [cloudtrail] if isinstance(cloudtrail, str) else list(cloudtrail or [])
    if use_the_sandbox:
        target = use_sandbox()
        if not s3 and not ct:
            return list(DEMO_S3_ACCESS), list(DEMO_CLOUDTRAIL), target
        return s3, ct, target
    if not s3 and not ct:
        raise ParameterError(
            "S3_ACCESS and CLOUDTRAIL are both empty: give the folders or s3:// locations of your logs "
            "(with SANDBOX false no demo world is read)"
        )
    return s3, ct, None


def sandbox_default(value: str, demo: str, use_the_sandbox: bool, name: str, *, required: bool = True) -> str:
    """``value``, or the demo world's ``demo`` when the notebook runs on the sandbox.

    Raises:
        ParameterError: ``value`` empty, ``SANDBOX`` false and ``required``.
    """
    if value:
        return value
    if use_the_sandbox:
        return demo
    if required:
        raise ParameterError(f"{name} is empty: name it (with SANDBOX false no demo bucket is assumed)")
    return ""


def run_demo(
    output_dir: Path = Path("reports"),
    days: int = 7,
    seed: int = 7,
    only: Sequence[str] | None = None,
    keep_sandbox: bool = False,
    progress: Callable[[str], None] | None = None,
) -> list[Report]:
    """Run the whole demo and return the reports written (raises if any notebook failed).

    Args:
        output_dir: folder for the executed notebooks and HTML reports.
        days: length of the demo world.
        seed: the demo world's seed.
        only: notebook names to run (default: all).
        keep_sandbox: leave the sandbox running afterwards (to explore in JupyterLab).
        progress: called with one line per step, for a command line to show.
    """
    say = progress or log.info
    say(f"starting the sandbox and the demo world ({days} days, seed {seed})")
    state, _, started = prepare_demo_world(days=days, seed=seed)
    say(f"sandbox on {state.endpoint}")
    reports: list[Report] = []
    failures: list[str] = []
    try:
        for notebook in list_notebooks():
            if only and notebook.stem not in only:
                continue
            try:
                report = run_report(notebook, {}, output_dir)
            except NotebookError as exc:
                say(f"{notebook.stem}: FAILED")
                failures.append(str(exc))
                continue
            reports.append(report)
            say(f"{notebook.stem}: {report.seconds:.0f}s")
    finally:
        if started and not keep_sandbox:
            sandbox.stop()
            say("sandbox stopped")
    if failures:
        raise NotebookError("; ".join(failures))
    return reports
