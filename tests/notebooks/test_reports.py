"""Notebooks run with papermill on the demo world and render reports that draw offline."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest

from s3forensics.errors import NotebookError, ParameterError
from s3forensics.reports import _KernelLoopNoise, coerce_parameters, find_notebook, run_report

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]


def test_unknown_parameter_is_refused() -> None:
    with pytest.raises(ParameterError, match="no parameter 'NOPE'"):
        coerce_parameters(find_notebook("01_anomaly_investigation"), [("NOPE", "1")])


def test_ill_typed_parameter_is_refused() -> None:
    with pytest.raises(ParameterError, match="SANDBOX"):
        coerce_parameters(find_notebook("01_anomaly_investigation"), [("SANDBOX", "perhaps")])


def test_failing_notebook_names_the_cell(demo_sandbox, tmp_path: Path) -> None:
    with pytest.raises(NotebookError, match=r"failed in cell \d+.*END .* must be after START"):
        run_report("01_anomaly_investigation", {"START": "2026-11-20T00:00:00Z", "END": "2026-11-19T00:00:00Z"}, tmp_path)
    assert not (tmp_path / "01_anomaly_investigation.html").exists()


def test_timed_out_cell_is_named_and_leaves_no_report(tmp_path: Path) -> None:
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(cells=[new_code_cell("import time\nx = 1"), new_code_cell("time.sleep(60)")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "slow.ipynb"
    nbformat.write(nb, path)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "slow.html").write_text("an earlier run's report")  # must not pass for this run's
    with pytest.raises(NotebookError, match=r"slow\.ipynb failed in cell 1 \(`time\.sleep\(60\)`\): CellTimeoutError"):
        run_report(path, {}, tmp_path / "out", timeout=2)
    assert not (tmp_path / "out" / "slow.html").exists()
    assert not (tmp_path / "out" / "slow.ipynb").exists()
    assert (tmp_path / "out" / "slow.failed.ipynb").exists()


def _small_notebook(tmp_path: Path) -> Path:
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    nb = new_notebook(
        cells=[
            new_markdown_cell("## What happened"),
            new_code_cell("answer_from_code = 40 + 2\nprint(f'the answer is {answer_from_code}')"),
            new_code_cell(""),
        ]
    )
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "small.ipynb"
    nbformat.write(nb, path)
    return path


def test_a_report_hides_its_code_unless_asked(tmp_path: Path) -> None:
    """A report is read by people who did not write it: text, tables and charts, no code;
    `report --show-code` keeps the code. The executed .ipynb keeps every cell either way."""
    import nbformat

    from s3forensics.cli import main

    path = _small_notebook(tmp_path)
    hidden = run_report(path, {}, tmp_path / "hidden").html.read_text(encoding="utf-8")
    assert "What happened" in hidden and "the answer is 42" in hidden
    assert "answer_from_code" not in hidden and 'class="highlight hl-ipython3"' not in hidden
    assert len(nbformat.read(tmp_path / "hidden" / "small.ipynb", as_version=4).cells) == 3
    assert main(["report", str(path), "--output", str(tmp_path / "shown"), "--show-code"]) == 0
    shown = (tmp_path / "shown" / "small.html").read_text(encoding="utf-8")
    assert "answer_from_code" in shown and "the answer is 42" in shown
    # The empty last cell is not drawn as an empty code box, even with the code shown.
    assert shown.count('class="highlight hl-ipython3"') == 1


def _record_raised_in(filename: str) -> logging.LogRecord:
    """A tornado-style ``Exception in callback`` record whose traceback ends in ``filename``."""
    code = compile("raise OSError('Socket operation on non-socket')", filename, "exec")
    try:
        exec(code, {})
    except OSError:
        info = sys.exc_info()
    return logging.LogRecord("tornado.application", logging.ERROR, __file__, 1, "Exception in callback %r", ("cb",), info)


def test_kernel_channel_errors_stay_off_stderr_and_others_do_not() -> None:
    """A failing cell's kernel shutdown can leave zmq's stream logging a traceback through
    tornado (seen under load in ``report`` runs): kept at debug level, never printed. Errors
    from anywhere else still go through."""
    noise = _KernelLoopNoise()
    assert noise.filter(_record_raised_in("/venv/site-packages/zmq/eventloop/zmqstream.py")) is False
    assert noise.filter(_record_raised_in("/venv/site-packages/jupyter_client/channels.py")) is False
    assert noise.filter(_record_raised_in("/home/analyst/my_helpers.py")) is True
    plain = logging.LogRecord("asyncio", logging.ERROR, __file__, 1, "no exception here", (), None)
    assert noise.filter(plain) is True


def test_report_stops_a_sandbox_the_notebook_started(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Before: a report with SANDBOX true left the moto server it started running."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    from s3forensics.cli import main
    from s3forensics.lab import sandbox

    monkeypatch.setenv("S3FORENSICS_HOME", str(tmp_path / "home"))  # no sandbox runs here
    nb = new_notebook(cells=[new_code_cell("from s3forensics.lab import sandbox\nstate = sandbox.start(seed=False)")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "starts.ipynb"
    nbformat.write(nb, path)
    assert sandbox.status()[0] == "stopped"
    assert main(["report", str(path), "--output", str(tmp_path / "out")]) == 0
    assert "stopped the sandbox this report started" in capsys.readouterr().err
    assert sandbox.status()[0] == "stopped"
