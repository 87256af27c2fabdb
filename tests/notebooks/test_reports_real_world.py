"""01 and 04 as a responder runs them on logs downloaded to local folders: no sandbox, no
credentials, worlds of other shapes than the demo world (``lab/demo/shapes.py``).

Before, 01 hung in its timeline cell on such logs and wrote no report, opened with
parameters and a load table, and showed every code cell. Each report here must exit 0,
open with its incidents (every injected incident's actor named in the verdict, before any
table or chart), show no code, name no demo bucket, and draw its charts offline. The time
each report takes is printed by ``s3forensics report`` and measured in the closing note,
not asserted.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from browser import assert_charts_drawn

from s3forensics.lab.demo.shapes import generate_shape

pytestmark = [pytest.mark.slow]

SHAPES = ("website", "data_platform")
#: Charts per report: 01 (timeline, heatmap, top talkers, egress); 04 (findings per detection, trend).
CHARTS = {"01_anomaly_investigation": 4, "04_periodic_report": 2}


def _no_credentials(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        {
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": "http://127.0.0.1:9",  # nothing answers there: no AWS, no internet
            "S3FORENSICS_HOME": str(home),
        }
    )
    return env


@pytest.fixture(scope="module", params=SHAPES)
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp(f"world-{request.param}")
    generate_shape(request.param, out, days=3)
    return out, json.loads((out / "ground_truth.json").read_text(encoding="utf-8"))


def _report(world: tuple[Path, dict], notebook: str, tmp_path: Path) -> tuple[str, Path]:
    folder, truth = world
    start, end = truth["start"], truth["end"]
    window = ["-p", "START", start, "-p", "END", end] if notebook.startswith("01") else ["-p", "END", end, "-p", "DAYS", "3"]
    exe = str(Path(sys.executable).with_name("s3forensics"))
    out = subprocess.run(
        [exe, "report", notebook, "-p", "SANDBOX", "false",
         "-p", "S3_ACCESS", f'["{folder / "s3f-demo-logs"}"]', "-p", "CLOUDTRAIL", f'["{folder / "s3f-demo-cloudtrail"}"]',
         *window, "--output", str(tmp_path)],
        capture_output=True, text=True, env=_no_credentials(tmp_path / "home"), timeout=600, check=False,
    )
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr, out.stderr
    return out.stdout, tmp_path / f"{notebook}.html"


@pytest.mark.parametrize("notebook", list(CHARTS))
def test_the_report_opens_with_the_incidents_and_shows_no_code(world, notebook: str, tmp_path: Path, browser) -> None:
    stdout, html_path = _report(world, notebook, tmp_path)
    print(stdout)  # "<path>  (N.Ns)": the time, for the closing note
    html = html_path.read_text(encoding="utf-8")
    assert 'class="highlight hl-ipython3"' not in html, "code cells are shown"
    body = re.sub(r"<style.*?</style>|<script.*?</script>", "", html, flags=re.S)
    verdict_at = body.find("incident(s)</strong>")
    assert verdict_at > 0, "no verdict"
    first_table = min(i for i in (body.find("<table"), body.find("plotly-graph-div")) if i > 0)
    assert verdict_at < first_table, "the report does not open with its incidents"
    verdict = body[verdict_at : body.find("Blind spots")]
    _, truth = world
    for scenario in truth["scenarios"]:
        actors = [*scenario.get("source_ips", []), *scenario.get("principals", [])]
        assert any(a.split("/")[-1] in verdict or a in verdict for a in actors), f"{scenario['id']}: none of {actors} in the verdict"
    assert "s3f-demo-" not in body.replace("s3f-demo-logs", "").replace("s3f-demo-cloudtrail", "")
    assert_charts_drawn(browser, html_path, charts=CHARTS[notebook])
