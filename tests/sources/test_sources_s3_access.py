"""S3 server access log parser: quirks, field counts, nulls, bad input files."""

from __future__ import annotations

import gzip
import random
from datetime import UTC, datetime

import pandas as pd
import pytest

from s3forensics.schema import S3_ACCESS_COLUMNS
from s3forensics.sources import key_decoded, load_s3_access, parse_line, parse_lines
from s3forensics.sources.report import MAX_REJECT_TEXT
from s3forensics.sources.s3_access_format import format_line

OWNER = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"


def record(**overrides):
    base = {
        "bucket_owner": OWNER,
        "bucket": "s3f-demo-site",
        "time": datetime(2026, 11, 16, 10, 0, 1, tzinfo=UTC),
        "remote_ip": "192.0.2.10",
        "requester": "arn:aws:iam::111122223333:user/ops-admin",
        "request_id": "3E57427F3EXAMPLE",
        "operation": "REST.GET.OBJECT",
        "key": "index.html",
        "request_uri": "GET /index.html HTTP/1.1",
        "http_status": 200,
        "error_code": None,
        "bytes_sent": 512,
        "object_size": 512,
        "total_time": 10,
        "turn_around_time": 9,
        "referer": "https://example.com/",
        "user_agent": "Mozilla/5.0",
        "version_id": None,
        "host_id": "s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234=",
        "signature_version": "SigV4",
        "cipher_suite": "ECDHE-RSA-AES128-GCM-SHA256",
        "authentication_type": "AuthHeader",
        "host_header": "s3f-demo-site.s3.us-east-1.amazonaws.com",
        "tls_version": "TLSv1.2",
        "access_point_arn": None,
        "acl_required": None,
        "source_region": "us-east-1",
    }
    base.update(overrides)
    return base


def one(line: str) -> dict:
    result = parse_lines([line])
    assert result.report.balanced
    assert result.report.rejected == 0, result.report.rejects.to_dict("records")
    assert len(result.frame) == 1
    row = result.frame.iloc[0].to_dict()
    return {k: (None if v is pd.NA or (isinstance(v, float) and pd.isna(v)) else v) for k, v in row.items()}


def test_columns_are_canonical_and_typed():
    result = parse_lines([format_line(record())])
    assert tuple(result.frame.columns) == S3_ACCESS_COLUMNS
    assert str(result.frame["time"].dtype) == "datetime64[us, UTC]"
    assert str(result.frame["bytes_sent"].dtype) == "Int64"
    assert str(result.frame["http_status"].dtype) == "Int32"


@pytest.mark.parametrize("fields", range(17, 28))
def test_every_field_count_from_17_to_27(fields):
    rec = record()
    row = one(format_line(rec, fields=fields))
    for i, name in enumerate(S3_ACCESS_COLUMNS):
        expected = rec[name] if i < fields else None
        assert row[name] == expected, name


def test_extra_trailing_fields_are_ignored():
    row = one(format_line(record()) + " future-field another-one")
    assert row["source_region"] == "us-east-1"


def test_mixed_field_counts_in_one_file(tmp_path):
    lines = [format_line(record(request_id=f"R{n}"), fields=n) for n in (17, 25, 27, 18, 26)]
    (tmp_path / "log").write_text("\n".join(lines) + "\n")
    result = load_s3_access(tmp_path)
    assert list(result.frame["request_id"]) == ["R17", "R25", "R27", "R18", "R26"]
    assert result.report.lines_read == 5 and result.report.rows == 5


def test_dash_is_null_not_zero_or_empty():
    row = one(format_line(record(bytes_sent=None, object_size=None, referer=None, user_agent=None, http_status=None)))
    assert row["bytes_sent"] is None and row["object_size"] is None and row["http_status"] is None
    assert row["referer"] is None and row["user_agent"] is None


def test_zero_stays_zero():
    row = one(format_line(record(bytes_sent=0, object_size=0)))
    assert row["bytes_sent"] == 0 and row["object_size"] == 0


def test_sizes_are_64_bit():
    row = one(format_line(record(object_size=422868123111, bytes_sent=2**63 - 1)))
    assert row["object_size"] == 422868123111
    assert row["bytes_sent"] == 2**63 - 1


def test_size_beyond_64_bits_is_rejected_with_reason():
    result = parse_lines([format_line(record()).replace(" 512 512 ", " 99999999999999999999 512 ", 1)])
    assert result.report.rejected == 1 and result.report.rows == 0
    assert "64 bits" in result.report.rejects.iloc[0]["reason"]


def test_time_offset_converted_to_utc():
    line = format_line(record()).replace("[16/Nov/2026:10:00:01 +0000]", "[16/Nov/2026:12:00:01 +0200]")
    row = one(line)
    assert row["time"] == pd.Timestamp("2026-11-16T10:00:01Z")


def test_quotes_and_backslashes_inside_quoted_fields():
    rec = record(
        request_uri='GET /a?q="x" "y" \\" HTTP/1.1',
        referer='https://example.com/?a="b"&c=\\',
        user_agent='"Mozilla/5.0 (X11; "quoted" \\ agent)" 200 - 1 2 3 4 ',
    )
    row = one(format_line(rec))
    for name in ("request_uri", "referer", "user_agent", "host_id", "source_region"):
        assert row[name] == rec[name], name


def test_bare_dash_on_batch_delete_and_copy():
    for op in ("BATCH.DELETE.OBJECT", "REST.COPY.OBJECT_GET"):
        line = format_line(record(operation=op, request_uri=None, referer=None, user_agent=None))
        # Request-URI, Referer and User-Agent are bare dashes here, not the quoted "-" of other operations.
        fields = line.split(" ")  # no field of record() holds a space once these three are dashes
        assert [fields[9], fields[16], fields[17]] == ["-", "-", "-"] and '"' not in line
        row = one(line)
        assert row["operation"] == op
        assert row["request_uri"] is None and row["referer"] is None and row["user_agent"] is None
        assert row["host_id"] == record()["host_id"]


def test_empty_quoted_field_is_empty_string():
    row = one(format_line(record(referer="")))
    assert row["referer"] == ""


def test_key_is_kept_encoded_and_helper_decodes():
    row = one(format_line(record(key="Screen+Shot+2019-09-09+at+9.08.44%2BAM.png")))
    assert row["key"] == "Screen+Shot+2019-09-09+at+9.08.44%2BAM.png"
    assert key_decoded(row["key"]) == "Screen Shot 2019-09-09 at 9.08.44+AM.png"
    assert "key_decoded" not in row


def test_trailing_space_and_crlf():
    row = one(format_line(record(), fields=26) + " \r")
    assert row["acl_required"] is None and row["tls_version"] == "TLSv1.2"


def test_unparseable_lines_are_rejected_with_reason_and_counted(tmp_path):
    good = format_line(record())
    lines = [good, "garbage", "", good.replace("[16/Nov/2026", "[99/Nov/2026"), good.replace(" 200 - ", " abc - ", 1), good]
    path = tmp_path / "mixed.log"
    path.write_text("\n".join(lines) + "\n")
    result = load_s3_access(path)
    rep = result.report
    assert rep.lines_read == 6 and rep.rows == 2 and rep.rejected == 4 and rep.balanced
    assert list(rep.rejects["line"]) == [2, 3, 4, 5]
    assert set(rep.rejects["file"]) == {str(path)}
    reasons = list(rep.rejects["reason"])
    assert "17" in reasons[0] and reasons[1] == "empty line"
    assert "time" in reasons[2] and "http_status" in reasons[3]
    assert rep.rejects.iloc[0]["text"] == "garbage"


def test_time_window_counts_outside_rows(tmp_path):
    lines = [format_line(record(time=datetime(2026, 11, 16, h, tzinfo=UTC))) for h in range(6)]
    (tmp_path / "log").write_text("\n".join(lines) + "\n")
    result = load_s3_access(tmp_path, start="2026-11-16T02:00:00Z", end=datetime(2026, 11, 16, 4, tzinfo=UTC))
    assert [t.hour for t in result.frame["time"]] == [2, 3]
    assert result.report.outside_window == 4 and result.report.balanced


def test_folder_recursive_gzip_and_plain(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "plain").write_text(format_line(record(request_id="P")) + "\n")
    (tmp_path / "a" / "b" / "zipped.gz").write_bytes(gzip.compress((format_line(record(request_id="Z")) + "\n").encode()))
    (tmp_path / "a" / "b" / "nosuffix").write_bytes(gzip.compress((format_line(record(request_id="N")) + "\n").encode()))
    result = load_s3_access(tmp_path)
    assert sorted(result.frame["request_id"]) == ["N", "P", "Z"]
    assert result.report.files == 3


def test_bad_files_named_and_others_still_load(tmp_path):
    good = format_line(record(request_id="GOOD"))
    (tmp_path / "0-good.log").write_text(good + "\n")
    full = gzip.compress(("\n".join([format_line(record(request_id=f"T{i}")) for i in range(200)]) + "\n").encode())
    (tmp_path / "1-truncated.gz").write_bytes(full[: len(full) // 2])
    (tmp_path / "2-empty.log").write_bytes(b"")
    (tmp_path / "3-binary.bin").write_bytes(bytes(range(256)) * 40)
    (tmp_path / "4-notalog.json").write_text('{"Records": []}\n')
    (tmp_path / "5-huge-line.log").write_text("x" * 1_000_000 + "\n" + good + "\n")
    result = load_s3_access(tmp_path)
    rep = result.report
    assert rep.balanced
    assert (result.frame["request_id"] == "GOOD").sum() == 2
    notes = "\n".join(rep.messages)
    assert "1-truncated.gz" in notes and "truncated" in notes
    assert "2-empty.log: empty file" in notes
    assert "3-binary.bin" in notes and "4-notalog.json" in notes
    huge = rep.rejects[rep.rejects["file"].str.endswith("5-huge-line.log")]
    assert len(huge) == 1 and huge.iloc[0]["line"] == 1 and "1000000 characters" in huge.iloc[0]["reason"]
    assert huge.iloc[0]["text"] == "x" * MAX_REJECT_TEXT == "x" * 4096  # the kept text is cut, not dropped


def test_missing_input_is_a_clear_error(tmp_path):
    from s3forensics.errors import SourceError

    with pytest.raises(SourceError, match="nope"):
        load_s3_access(tmp_path / "nope")


def test_python_reference_parser_agrees_with_fast_path():
    rec = record(user_agent='a "b" c', request_uri='GET /"x" HTTP/1.1')
    parsed = parse_line(format_line(rec))
    assert isinstance(parsed, dict)
    assert parsed["user_agent"] == rec["user_agent"] and parsed["request_uri"] == rec["request_uri"]
    assert parsed["time"] == rec["time"]


@pytest.mark.parametrize("read_bytes", [700, 4096, 1 << 20])
def test_line_numbers_rows_and_notes_across_chunks_blocks_and_batches(tmp_path, monkeypatch, read_bytes):
    """Files are read in chunks, parsed in blocks and batches on threads: whatever the
    sizes, rows come in input order and every reject names its true file and line."""
    from s3forensics.sources import s3_access

    lines, bad = [], {}
    for i in range(300):
        if i % 37 == 5:
            lines.append(f"garbage line {i}")
            bad[i + 1] = lines[-1]
        else:
            lines.append(format_line(record(request_id=f"R{i:04d}")))
    (tmp_path / "1-plain.log").write_text("\n".join(lines) + "\n")
    (tmp_path / "2-gzip.gz").write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    full = gzip.compress(("\n".join(lines) + "\n").encode())
    (tmp_path / "3-truncated.gz").write_bytes(full[: len(full) * 3 // 4])
    (tmp_path / "4-no-final-newline.log").write_text("\n".join(lines))
    monkeypatch.setattr(s3_access, "READ_BYTES", read_bytes)
    monkeypatch.setattr(s3_access, "BLOCK_BYTES", max(read_bytes, 2048))
    monkeypatch.setattr(s3_access, "BATCH_BYTES", 5 * read_bytes)
    result = load_s3_access(tmp_path)
    rep = result.report
    assert rep.balanced and rep.files == 4
    good = [f"R{i:04d}" for i in range(300) if (i + 1) not in bad]
    ids = list(result.frame["request_id"])
    truncated_rows = len(ids) - 3 * len(good)
    assert 0 < truncated_rows < len(good)
    assert ids == good + good + good[:truncated_rows] + good
    for name in ("1-plain.log", "2-gzip.gz", "4-no-final-newline.log"):
        mine = rep.rejects[rep.rejects["file"].str.endswith(name)]
        assert dict(zip(mine["line"], mine["text"])) == bad, name
    cut = rep.rejects[rep.rejects["file"].str.endswith("3-truncated.gz")]
    tail = cut[cut["reason"].str.startswith("truncated")]
    assert len(tail) <= 1
    complete = int(tail.iloc[0]["line"]) - 1 if len(tail) else None
    garbage = cut[~cut["reason"].str.startswith("truncated")]
    assert dict(zip(garbage["line"], garbage["text"])) == {k: v for k, v in bad.items() if complete is None or k <= complete}
    if complete is not None:
        assert lines[complete].startswith(tail.iloc[0]["text"])
        assert f"the {complete} complete lines" in "\n".join(rep.messages)


def test_the_same_file_given_twice_is_numbered_from_1_both_times(tmp_path, monkeypatch):
    from s3forensics.sources import s3_access

    lines = [format_line(record(request_id=f"R{i}")) if i % 10 != 3 else f"garbage {i}" for i in range(40)]
    path = tmp_path / "a.log"
    path.write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(s3_access, "READ_BYTES", 700)
    monkeypatch.setattr(s3_access, "BLOCK_BYTES", 2048)
    monkeypatch.setattr(s3_access, "BATCH_BYTES", 3000)
    rep = load_s3_access([path, path]).report
    assert rep.balanced and rep.rows == 2 * 36
    assert list(rep.rejects["line"]) == [4, 14, 24, 34] * 2


def test_a_truncated_file_is_listed_with_the_table_holding_its_last_rows(tmp_path, monkeypatch):
    from s3forensics.sources import s3_access
    from s3forensics.sources.report import ReportBuilder

    rng = random.Random(7)  # keys that do not compress away: half the stream holds many lines
    full = gzip.compress(("\n".join(format_line(record(request_id=f"B{i}", key=f"{rng.getrandbits(128):032x}"))
                                    for i in range(60)) + "\n").encode())
    (tmp_path / "a.log").write_text("\n".join(format_line(record(request_id=f"A{i}")) for i in range(30)) + "\n")
    (tmp_path / "b.gz").write_bytes(full[: len(full) // 2])
    (tmp_path / "c.log").write_text("\n".join(format_line(record(request_id=f"C{i}")) for i in range(30)) + "\n")
    monkeypatch.setattr(s3_access, "READ_BYTES", 700)
    monkeypatch.setattr(s3_access, "BLOCK_BYTES", 2048)
    runs: list = []
    tables = list(s3_access.iter_s3_access_tables(sorted(tmp_path.iterdir()), report=ReportBuilder("s3_access"),
                                                  batch_bytes=3000, on_runs=runs.append))
    assert len(runs) == len(tables)
    for name in ("a.log", "b.gz", "c.log"):
        last = max(i for i, table_runs in enumerate(runs) if any(f.endswith(name) for f, _ in table_runs))
        listed = [i for i, (files, _) in enumerate(tables) if any(sf.name.endswith(name) for sf in files)]
        assert listed == [last], name
    assert any(f.endswith("b.gz") and n > 5 for table_runs in runs for f, n in table_runs)
