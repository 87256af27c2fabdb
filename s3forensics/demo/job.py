"""The main job on the embedded default (``make demo``).

Start the sandbox, generate and upload the demo world, run every notebook against it with
papermill, render the reports, stop the sandbox, and return the report paths.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from s3forensics import sandbox
from s3forensics.config import home_dir, notebook_cache_dir
from s3forensics.errors import NotebookError
from s3forensics.reports import Report, list_notebooks, run_report

log = logging.getLogger(__name__)


def prepare_demo_world(days: int = 7, seed: int = 7) -> tuple[sandbox.SandboxState, Path, bool]:
    """Ensure the sandbox runs and holds the demo world; export its environment.

    Returns:
        The sandbox state, the local demo-world folder, and whether this call started it.
    """
    from s3forensics.demo.generate import generate, upload

    already = sandbox.status()[0] == "running"
    state = sandbox.start(seed=True)
    os.environ.update(state.env())
    world_dir = home_dir() / "demo-world"
    generate(world_dir, days=days, seed=seed)
    upload(world_dir, session=sandbox.boto_session(state))
    # The sandbox's Parquet cache may hold another world (other seed or days): start afresh.
    shutil.rmtree(notebook_cache_dir(sandbox=True), ignore_errors=True)
    return state, world_dir, not already


def run_demo(
    output_dir: Path = Path("reports"),
    days: int = 7,
    seed: int = 7,
    only: Sequence[str] | None = None,
    keep_sandbox: bool = False,
) -> list[Report]:
    """Run the whole demo and return the reports written (raises if any notebook failed)."""
    _, _, started = prepare_demo_world(days=days, seed=seed)
    reports: list[Report] = []
    failures: list[str] = []
    try:
        for notebook in list_notebooks():
            if only and notebook.stem not in only:
                continue
            log.info("running %s", notebook.name)
            try:
                reports.append(run_report(notebook, {}, output_dir))
            except NotebookError as exc:
                failures.append(str(exc))
    finally:
        if started and not keep_sandbox:
            sandbox.stop()
    if failures:
        raise NotebookError("; ".join(failures))
    return reports
