"""The vectorised paths give exactly what the pure-Python reference gives, line by line.

S3 access logs: every line of a chunk is either parsed by the numpy path or handed to
``parse_line``; whichever path takes it, the row (or the reject reason) must equal
``parse_line``'s. Lines are valid renderings mutated with the bytes that break splitters
(tabs, runs of spaces, Unicode spaces, quotes, CR, non-ASCII digits, odd times).

CloudTrail: the three free-form objects are kept as the exact JSON text of the file.
"""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from s3forensics.schema import S3_ACCESS_COLUMNS
from s3forensics.sources import load_cloudtrail, parse_line
from s3forensics.sources.report import ReportBuilder
from s3forensics.sources.s3_access import parse_chunk
from s3forensics.sources.s3_access_format import format_line

BASE = {
    "bucket_owner": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be",
    "bucket": "s3f-demo-site",
    "time": datetime(2024, 2, 29, 23, 59, 58, tzinfo=UTC),
    "remote_ip": "192.0.2.10",
    "requester": "arn:aws:iam::111122223333:user/alice",
    "request_id": "3E57427F3EXAMPLE",
    "operation": "REST.GET.OBJECT",
    "key": "img/a%20b.jpg",
    "request_uri": "GET /img/a%20b.jpg HTTP/1.1",
    "http_status": 200,
    "error_code": None,
    "bytes_sent": 2662992,
    "object_size": 3462992,
    "total_time": 70,
    "turn_around_time": 10,
    "referer": "https://www.example.com/",
    "user_agent": "curl/8.4.0",
    "version_id": None,
    "host_id": "s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234=",
    "signature_version": "SigV4",
    "cipher_suite": "ECDHE-RSA-AES128-GCM-SHA256",
    "authentication_type": "AuthHeader",
    "host_header": "s3f-demo-site.s3.us-west-1.amazonaws.com",
    "tls_version": "TLSv1.2",
    "access_point_arn": None,
    "acl_required": None,
    "source_region": "us-west-1",
}

#: Bytes and snippets that make a splitter go wrong, or that only the reference reads.
HOSTILE = [
    '"', " ", "  ", "\t", "\r", "\\", "-", "[", "]", "\u00a0", "\u2003", "\u0085", "\u00e9", "\u0663",
    '" "', " - ", "1234567890123456789", "0", "+", "x", "/", ":", "nov", "31/Feb", "\x1f", "\x00",
]


def _line(fields: int, bare: bool, agent: str, status: int | None, size: int | None) -> str:
    rec = dict(BASE)
    rec.update(user_agent=agent, http_status=status, object_size=size)
    if bare:
        rec.update(operation="BATCH.DELETE.OBJECT", request_uri=None, referer=None, user_agent=None)
    return format_line(rec, fields=fields)


@st.composite
def mutated_lines(draw):
    agent = draw(st.sampled_from(["curl/8.4.0", 'a "b" c', '"', "", "x  y", "\u00e9t\u00e9", "-"]))
    line = _line(
        draw(st.integers(17, 27)), draw(st.booleans()), agent,
        draw(st.sampled_from([None, 0, 200, 404])), draw(st.sampled_from([None, 0, 7, 999_999_999_999_999_999])),
    )
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(line)))
        action = draw(st.sampled_from(["insert", "delete", "replace"]))
        snippet = draw(st.sampled_from(HOSTILE))
        if action == "insert":
            line = line[:at] + snippet + line[at:]
        elif action == "delete":
            line = line[:at] + line[at + draw(st.integers(1, 3)) :]
        else:
            line = line[:at] + snippet + line[at + len(snippet) :]
    if draw(st.booleans()):
        line += draw(st.sampled_from([" ", "  ", "\r", " x y", ' "']))
    return line


def _check_chunk(lines: list[str]) -> None:
    report = ReportBuilder("s3_access")
    data = "".join(line.replace("\n", " ") + "\n" for line in lines).encode("utf-8")
    table = parse_chunk(data, "f.log", 1, report)
    rows = iter(table.to_pylist())
    rejects = iter(report.rejects)
    assert report.lines_read == len(lines) == report.rows + len(report.rejects)
    for number, line in enumerate(lines, start=1):
        expected = parse_line(line.replace("\n", " "))
        if isinstance(expected, str):
            reject = next(rejects)
            assert (reject.line, reject.reason) == (number, expected), line
        else:
            row = next(rows)
            assert row == {name: expected[name] for name in S3_ACCESS_COLUMNS}, line


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(mutated_lines(), min_size=1, max_size=12))
def test_fast_path_equals_reference_on_mutated_lines(lines):
    _check_chunk(lines)


def test_fast_path_equals_reference_on_known_quirks():
    good = _line(27, False, "curl/8.4.0", 200, 5)
    head, rest = good.split(" [", 1)
    lines = [
        good,
        good + "   ",  # trailing spaces
        good + "\r",  # CRLF
        good.replace("+0000]", "-0130]"),  # offset converted to UTC
        good.replace("29/Feb/2024", "29/Feb/2023"),  # no such day: rejected
        good.replace("Feb", "feb"),  # strptime reads month names in any case
        good.replace("Feb", "Foo"),
        good.replace(" 200 ", " 2000 "),  # status too long: rejected
        good.replace(" 70 ", " 9223372036854775807 "),  # 19 digits, fits
        good.replace(" 70 ", " 9223372036854775808 "),  # does not fit: rejected
        good.replace(" 70 ", " -1 "),
        good.replace(" 70 ", " 0x1F "),
        good.replace(" 70 ", " \u0663 "),  # an Arabic-Indic digit: Python's \d reads it
        good.replace(" 70 ", "  70 "),  # two spaces
        good.replace("SigV4", "Sig\tV4"),
        good.replace("SigV4", "Sig\u00a0V4"),  # a Unicode space splits for the reference
        good.replace("curl/8.4.0", "curl\u00a0\u00e9\t8"),  # anything goes inside quotes
        good.replace('"curl/8.4.0"', '""'),  # empty quoted field is an empty string
        good.replace('"curl/8.4.0"', '"-"'),
        good.replace('"https://www.example.com/"', '"-"'),
        good.replace('"curl/8.4.0"', '"a "quoted" agent"'),
        good.replace('"curl/8.4.0"', '"a "quoted" agent" extra'),
        good.replace('"curl/8.4.0" ', '"curl/8.4.0"'),  # no space after the agent
        _line(17, True, "", None, None),
        _line(27, True, "", None, None) + " ",
        _line(27, True, "", None, None).replace(" - - ", " -  - ", 1),
        head + "  [" + rest,
        " " + good,
        "",
        "   ",
        "not a log line",
        good.replace("\"GET", "-", 1),  # one bare dash among quoted fields
    ]
    _check_chunk(lines)


def test_invalid_utf8_is_replaced_and_rejected_or_read():
    good = _line(27, False, "curl/8.4.0", 200, 5).encode()
    data = good + b"\n" + good.replace(b"curl", b"cu\xffrl") + b"\n" + good.replace(b"SigV4", b"Sig\xff") + b"\n"
    report = ReportBuilder("s3_access")
    table = parse_chunk(data, "f.log", 1, report)
    assert report.lines_read == 3 == report.rows + len(report.rejects)
    agents = table.column("user_agent").to_pylist()
    assert agents[0] == "curl/8.4.0" and agents[1] == "cu\ufffdrl/8.4.0"
    assert table.column("signature_version").to_pylist()[2] == "Sig\ufffd"


def test_cloudtrail_objects_keep_their_original_json_text(tmp_path):
    params = '{"bucketName": "s3f-demo-data",  "key": "a\\u00e9\\"b\\\\c", "n": 1.50, "x": [1, {"y": null}]}'
    extra = '{ "bytesTransferredOut" : 12 , "SignatureVersion":"SigV4" }'
    record = (
        '{"eventVersion":"1.09","eventTime":"2026-11-16T00:00:01Z","eventSource":"s3.amazonaws.com",'
        '"eventName":"GetObject","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/alice"},'
        f'"requestParameters": {params},"responseElements":null,"additionalEventData":{extra},'
        '"resources":[{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::s3f-demo-data/a"}],"readOnly":true}'
    )
    (tmp_path / "a.json.gz").write_bytes(gzip.compress(('{"Records": [' + record + "]}").encode()))
    result = load_cloudtrail(tmp_path)
    row = result.frame.iloc[0]
    assert row["request_parameters"] == params
    assert row["additional_event_data"] == extra
    assert result.frame["response_elements"].isna().tolist() == [True]  # JSON null is missing, not the text "null"
    assert json.loads(row["request_parameters"])["key"] == 'a\u00e9"b\\c'
    assert row["object_key"] == 'a\u00e9"b\\c' and row["bytes_transferred_out"] == 12


def test_cloudtrail_original_text_finds_only_each_records_own_keys(tmp_path):
    nested = '{"requestParameters" : {"decoy": 1}, "s": "\\"requestParameters\\": {}"}'
    records = [
        '{"eventTime":"2026-11-16T00:00:02Z","errorMessage":"\\"requestParameters\\":{\\"x\\":1}",'
        f'"responseElements" :\n {nested},"requestParameters":{{"a":"\\\\"}}}}',
        "42",
        '{"eventTime":"2026-11-16T00:00:03.5+01:00","requestParameters":null,"additionalEventData":"text",'
        '"requestParameters":{"later":[1,2]}}',
    ]
    (tmp_path / "a.json").write_bytes(b"\xef\xbb\xbf[" + ",".join(records).encode() + b"]")
    result = load_cloudtrail(tmp_path)
    frame = result.frame
    assert result.report.rows == 2 and result.report.rejected == 1
    assert list(frame["response_elements"].fillna("")) == [nested, ""]
    assert list(frame["request_parameters"]) == ['{"a":"\\\\"}', '{"later":[1,2]}']
    assert list(frame["additional_event_data"].fillna("")) == ["", '"text"']
    assert frame["event_time"].iloc[1] == datetime(2026, 11, 15, 23, 0, 3, 500000, tzinfo=UTC)
