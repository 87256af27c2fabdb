"""Check results as JSON, a plain-text table, or a self-contained HTML page."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence

from s3forensics.checks.base import CheckResult
from s3forensics.checks.coverage import QUESTIONS, coverage

FORMATS = ("json", "table", "html")


def to_json(results: Sequence[CheckResult]) -> str:
    """The stable array ``[{check_id, resource, status, severity, message, remediation}]``."""
    return json.dumps([r.as_dict() for r in results], indent=2)


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], widths: Mapping[int, int] | None = None) -> list[str]:
    widths = dict(widths or {})
    clipped = [[(c if len(c) <= widths.get(i, 10**6) else c[: widths[i] - 1] + "…") for i, c in enumerate(row)] for row in rows]
    sizes = [max([len(h)] + [len(r[i]) for r in clipped]) for i, h in enumerate(headers)]
    fmt = "  ".join(f"{{:<{s}}}" for s in sizes)
    return [fmt.format(*headers), fmt.format(*("-" * s for s in sizes))] + [fmt.format(*r) for r in clipped]


def to_table(results: Sequence[CheckResult], with_coverage: bool = True) -> str:
    """Aligned text: one line per result, a summary, then the coverage matrix."""
    rows = [[r.status.value, r.severity, r.check_id, r.resource, r.message] for r in results]
    lines = _table(["STATUS", "SEVERITY", "CHECK", "RESOURCE", "MESSAGE"], rows, {3: 40})
    counts = {s: sum(1 for r in results if r.status.value == s) for s in ("PASS", "FAIL", "UNKNOWN")}
    lines.append("")
    lines.append(f"{counts['PASS']} passed, {counts['FAIL']} failed, {counts['UNKNOWN']} unknown")
    matrix = coverage(results)
    if with_coverage and matrix:
        lines += ["", "Evidence coverage (can this account answer...?)"]
        short = [f"Q{i}" for i in range(1, len(QUESTIONS) + 1)]
        lines += _table(["BUCKET", *short], [[b, *(row[q.text] for q in QUESTIONS)] for b, row in matrix.items()])
        lines += [f"  {s}: {q.text}" for s, q in zip(short, QUESTIONS, strict=True)]
    return "\n".join(lines)


_STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f0f0f0}.PASS,.yes{background:#e3f6e3}.FAIL,.no{background:#fbe1e1}.UNKNOWN,.unknown{background:#f6f0d8}.partial{background:#fff3cc}
"""


def to_html(results: Sequence[CheckResult], title: str = "s3forensics setup checks") -> str:
    """A self-contained page (inline CSS, no scripts or external assets)."""
    esc = html.escape
    body = [f"<h1>{esc(title)}</h1>"]
    counts = {s: sum(1 for r in results if r.status.value == s) for s in ("PASS", "FAIL", "UNKNOWN")}
    body.append(f"<p>{counts['PASS']} passed, {counts['FAIL']} failed, {counts['UNKNOWN']} unknown.</p>")
    matrix = coverage(results)
    if matrix:
        body.append("<h2>Evidence coverage</h2><table><tr><th>Bucket</th>" + "".join(f"<th>{esc(q.text)}</th>" for q in QUESTIONS) + "</tr>")
        for bucket, row in matrix.items():
            cells = "".join(f'<td class="{esc(row[q.text])}">{esc(row[q.text])}</td>' for q in QUESTIONS)
            body.append(f"<tr><td>{esc(bucket)}</td>{cells}</tr>")
        body.append("</table>")
    body.append("<h2>Checks</h2><table><tr><th>Status</th><th>Severity</th><th>Check</th><th>Resource</th><th>Message</th><th>Remediation</th></tr>")
    for r in results:
        body.append(
            f'<tr><td class="{r.status.value}">{r.status.value}</td><td>{esc(r.severity)}</td><td>{esc(r.check_id)}</td>'
            f"<td>{esc(r.resource)}</td><td>{esc(r.message)}</td><td>{esc(r.remediation)}</td></tr>"
        )
    body.append("</table>")
    return f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title><style>{_STYLE}</style></head><body>\n' + "\n".join(body) + "\n</body></html>\n"


def render(results: Sequence[CheckResult], fmt: str) -> str:
    """``json`` | ``table`` | ``html``."""
    return {"json": to_json, "table": to_table, "html": to_html}[fmt](results)
