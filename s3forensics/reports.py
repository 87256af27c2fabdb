"""Run notebooks with papermill and render them to HTML that works offline.

``s3forensics report NOTEBOOK [-p NAME VALUE]... [--output DIR]`` is made for cron: it
exits non-zero, naming the failing cell, when execution fails, and then writes no report
page (only ``<name>.failed.ipynb`` for the post-mortem). ``s3forensics demo``, the main job
of the lab (:mod:`s3forensics.lab.demo.job`), runs every notebook through :func:`run_report`.
"""

from __future__ import annotations

import ast
import json
import logging
import os
import tempfile
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from s3forensics.errors import NotebookError, ParameterError

log = logging.getLogger(__name__)

REPO_NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
TEMPLATE_NAME = "s3f_offline"


def _ipc_kernel_manager() -> type:
    from jupyter_client.manager import AsyncKernelManager

    class IPCKernelManager(AsyncKernelManager):
        """A kernel manager whose kernel talks over IPC sockets, not TCP."""

        def __init__(self, **kwargs: Any) -> None:
            kwargs.setdefault("transport", "ipc")
            # Socket files <ip>-<n> in the temporary folder, never in the working folder.
            kwargs.setdefault("ip", os.path.join(tempfile.gettempdir(), f"s3f-kernel-{uuid.uuid4().hex}"))
            super().__init__(**kwargs)

    return IPCKernelManager


def __getattr__(name: str) -> Any:
    # Built on first use so that importing this module does not import jupyter_client.
    if name == "IPCKernelManager":
        return _ipc_kernel_manager()
    raise AttributeError(name)


@dataclass(frozen=True)
class Report:
    """One executed notebook and its HTML rendering."""

    notebook: Path
    executed: Path
    html: Path
    seconds: float


def find_notebook(name: str | Path) -> Path:
    """Resolve a notebook path, or a name like ``01_anomaly_investigation`` in ``notebooks/``."""
    candidate = Path(name)
    tries = [candidate]
    if candidate.suffix != ".ipynb":
        tries.append(candidate.with_suffix(".ipynb"))
    for folder in (Path.cwd() / "notebooks", REPO_NOTEBOOKS):
        tries += [folder / candidate.name, folder / f"{candidate.name}.ipynb"]
    for path in tries:
        if path.is_file() and path.suffix == ".ipynb":
            return path.resolve()
    raise NotebookError(f"notebook {str(name)!r} not found (looked in ., notebooks/ and {REPO_NOTEBOOKS})")


def list_notebooks(folder: Path = REPO_NOTEBOOKS) -> list[Path]:
    """The kit's notebooks, ``NN_topic.ipynb``, in order."""
    return sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb") if p.is_file())


def declared_parameters(notebook: Path) -> dict[str, dict[str, Any]]:
    """Parameters declared in the notebook's ``parameters`` cell (papermill's inspection)."""
    import papermill

    return dict(papermill.inspect_notebook(str(notebook)))


def coerce_parameters(notebook: Path, raw: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """Turn ``-p NAME VALUE`` strings into typed values, checking names and types.

    A value is converted to the type of the parameter's default (int, float, bool, str,
    list/dict as JSON); a name the notebook does not declare is an error.
    """
    declared = declared_parameters(notebook)
    out: dict[str, Any] = {}
    for name, text in raw:
        if name not in declared:
            known = ", ".join(sorted(declared)) or "none"
            raise ParameterError(f"{notebook.name} has no parameter {name!r} (parameters: {known})")
        out[name] = _convert(name, text, _kind(declared[name]), notebook)
    return out


def _kind(info: Mapping[str, Any]) -> str:
    """The type of a declared parameter: its annotation, else the type of its default."""
    annotated = str(info.get("inferred_type_name") or "None")
    if annotated != "None":
        return annotated.lower()
    try:
        default = ast.literal_eval(str(info.get("default")))
    except (ValueError, SyntaxError):
        return "none"
    return "none" if default is None else type(default).__name__.lower()


def _convert(name: str, text: str, kind: str, notebook: Path) -> Any:
    try:
        if kind == "int":
            return int(text)
        if kind == "float":
            return float(text)
        if kind == "bool":
            lowered = text.strip().lower()
            if lowered not in {"true", "false", "1", "0", "yes", "no"}:
                raise ValueError(text)
            return lowered in {"true", "1", "yes"}
        if kind in {"list", "dict"} or kind.startswith(("list", "dict")):
            value = json.loads(text)
            if not isinstance(value, list if kind.startswith("list") else dict):
                raise ValueError(text)
            return value
    except ValueError as exc:
        raise ParameterError(
            f"parameter {name} of {notebook.name} expects {kind}, got {text!r}"
        ) from exc
    if kind in {"none", "nonetype"}:
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def render_html(executed: Path, html: Path, *, show_code: bool = False) -> Path:
    """Render an executed notebook to self-contained HTML (no script fetched from the net).

    A report is read, not debugged: code cells are left out unless ``show_code``, and code
    cells with neither source nor output (an empty last cell) are left out either way. The
    executed ``.ipynb`` beside the HTML keeps every cell.
    """
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name=TEMPLATE_NAME,
        extra_template_basedirs=[str(TEMPLATE_DIR)],
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        exclude_input=not show_code,
    )
    nb = nbformat.read(executed, as_version=4)
    nb.cells = [c for c in nb.cells if c.cell_type != "code" or c.source.strip() or c.get("outputs")]
    body, _ = exporter.from_notebook_node(nb)
    html.write_text(body, encoding="utf-8")
    return html


class _KernelLoopNoise(logging.Filter):
    """Keep the kernel client's event-loop errors off stderr, in this module's debug log.

    When a cell fails, papermill shuts the kernel down while messages may still be in flight;
    tornado then logs ``Exception in callback ...`` with a traceback from zmq's stream. The run
    has already been judged (the failing cell is reported in one sentence), so the record is
    kept at debug level, in one line, and not shown to the user.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.exc_info or not _from_kernel_client(record.exc_info[2]):
            return True  # anything else the loop logs is shown as usual
        exc = record.exc_info[1]
        log.debug("kernel channel error after the run (not shown): %s: %s", type(exc).__name__, exc)
        return False


def _from_kernel_client(tb: Any) -> bool:
    """True when a traceback passes through zmq's or jupyter_client's code."""
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename.replace("\\", "/")
        if "/zmq/" in filename or "/jupyter_client/" in filename:
            return True
        tb = tb.tb_next
    return False


_KERNEL_LOOP_LOGGERS = ("tornado.application", "tornado.general", "asyncio")


def _mute_kernel_loop_errors() -> None:
    """Install :class:`_KernelLoopNoise` once on the loggers the kernel client's loop writes to."""
    for name in _KERNEL_LOOP_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _KernelLoopNoise) for f in logger.filters):
            logger.addFilter(_KernelLoopNoise())


def run_report(
    notebook: str | Path,
    parameters: Mapping[str, Any] | None = None,
    output_dir: str | Path = "reports",
    *,
    stem: str | None = None,
    timeout: int = 900,
    show_code: bool = False,
) -> Report:
    """Execute ``notebook`` with ``parameters`` and render ``<output_dir>/<stem>.html``.

    The HTML shows the notebook's text, tables and charts; ``show_code`` keeps the code.

    Raises:
        NotebookError: execution failed; the message names the cell and the error.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    _mute_kernel_loop_errors()
    path = find_notebook(notebook)
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = stem or path.stem
    executed = out / f"{stem}.ipynb"
    started = time.monotonic()
    try:
        papermill.execute_notebook(
            str(path),
            str(executed),
            parameters=dict(parameters or {}),
            kernel_name="python3",
            progress_bar=False,
            cwd=str(path.parent),
            execution_timeout=timeout,
            # Kernel sockets as files in a private folder rather than loopback TCP ports
            # other local users could reach.
            kernel_manager_class="s3forensics.reports.IPCKernelManager",
        )
    except PapermillExecutionError as exc:
        failed = _keep_failed(executed, stem)
        first = next((ln for ln in str(exc.source).splitlines() if ln.strip() and not ln.startswith("#")), "")
        raise NotebookError(
            f"{path.name} failed in cell {exc.cell_index} (`{first.strip()[:80]}`): "
            f"{exc.ename}: {exc.evalue} (executed copy: {failed})"
        ) from None
    except Exception as exc:
        failed = _keep_failed(executed, stem)
        where = _running_cell(failed)
        raise NotebookError(
            f"{path.name} failed{where}: {type(exc).__name__}: {exc} (executed copy: {failed})"
        ) from exc
    html = render_html(executed, out / f"{stem}.html", show_code=show_code)
    return Report(notebook=path, executed=executed, html=html, seconds=time.monotonic() - started)


def _keep_failed(executed: Path, stem: str) -> Path:
    """Rename a partial run to ``<stem>.failed.ipynb`` so it never passes for a report, and
    remove the HTML an earlier run left (it would pass for this run's)."""
    failed = executed.with_name(f"{stem}.failed.ipynb")
    if executed.exists():
        executed.replace(failed)
    executed.with_name(f"{stem}.html").unlink(missing_ok=True)
    return failed


def _running_cell(notebook: Path) -> str:
    """`` in cell N (`first line`)`` for the cell that was running, or ``""``.

    That is a cell papermill marked running or failed, else the last one it started
    (papermill marks a timed-out cell completed).
    """
    import nbformat

    try:
        nb = nbformat.read(notebook, as_version=4)
    except (OSError, ValueError):
        return ""
    found = None
    for index, cell in enumerate(nb.cells):
        meta = cell.get("metadata", {}).get("papermill", {})
        if cell.cell_type != "code" or not meta.get("start_time"):
            continue
        found = (index, cell)
        if meta.get("status") in {"running", "failed"}:
            break
    if found is None:
        return ""
    index, cell = found
    first = next((ln for ln in cell.source.splitlines() if ln.strip() and not ln.startswith("#")), "")
    return f" in cell {index} (`{first.strip()[:80]}`)"
