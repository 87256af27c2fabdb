"""The demo world generator: determinism, AWS layouts and formats, ground truth, upload, CLI."""

from __future__ import annotations

import gzip
import ipaddress
import itertools
import json
import re
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from s3forensics.errors import ConfigError
from s3forensics.lab.demo import world
from s3forensics.lab.demo.generate import generate, iter_objects

DOC_NETS = [ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")]
EXPECTED_DETECTIONS = {
    "get_flood": ["request_rate_spike"],
    "role_exfiltration": ["large_egress", "new_principal_or_ip_reading"],
    "secret_scanner": ["secret_file_probing", "scanner_user_agent", "access_denied_burst"],
    "archive_made_public": ["bucket_made_public", "logging_evasion"],
    "mass_delete": ["mass_delete"],
}
SITE_LOG = re.compile(
    r"^s3-access/site/111122223333/us-east-1/s3f-demo-site/(\d{4})/(\d{2})/(\d{2})/"
    r"(\d{4})-(\d{2})-(\d{2})-\d{2}-\d{2}-\d{2}-[0-9A-F]{16}$"
)
SIMPLE_LOG = re.compile(r"^s3-access/(data|archive)/\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-[0-9A-F]{16}$")
TRAIL_FILE = re.compile(
    r"^AWSLogs/111122223333/CloudTrail/us-east-1/(\d{4})/(\d{2})/(\d{2})/"
    r"111122223333_CloudTrail_us-east-1_(\d{4})(\d{2})(\d{2})T\d{4}Z_[A-Za-z0-9]{16}\.json\.gz$"
)
DIGEST_FILE = re.compile(
    r"^AWSLogs/111122223333/CloudTrail-Digest/us-east-1/\d{4}/\d{2}/\d{2}/"
    r"111122223333_CloudTrail-Digest_us-east-1_s3f-demo-trail_us-east-1_\d{8}T\d{6}Z\.json\.gz$"
)
TIME = re.compile(r"^\[\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0000\]$")


def split_line(line: str) -> list[str]:
    """27 fields of an access log line, by its known shape (independent of the sources parser).

    Left to right up to the referer (no field there holds a quote in the demo world), then
    the ten space-free trailing fields from the right; what is left is the user agent,
    which may itself contain quotes, as S3 writes them unescaped.
    """
    fields = line.split(" ", 2)[:2]
    rest = line.split(" ", 2)[2]
    end = rest.index("]") + 1
    fields.append(rest[:end])
    rest = rest[end + 1 :]
    head = rest.split(" ", 4)
    fields += head[:4]  # remote ip, requester, request id, operation
    rest = head[4]
    key, rest = rest.split(" ", 1)
    fields.append(key)
    if rest.startswith('"'):
        close = rest.index('" ', 1)
        fields.append(rest[: close + 1])
        rest = rest[close + 2 :]
    else:
        uri, rest = rest.split(" ", 1)
        fields.append(uri)
    parts = rest.split(" ", 6)  # status, error, bytes, size, total, turn-around, then the rest
    fields += parts[:6]
    rest = parts[6]
    if rest.startswith('"'):
        close = rest.index('" ', 1)
        fields.append(rest[: close + 1])
        rest = rest[close + 2 :]
    else:
        ref, rest = rest.split(" ", 1)
        fields.append(ref)
    agent, *tail = rest.rsplit(" ", 10)
    return [*fields, agent, *tail]


def access_lines(root: Path, bucket: str | None = None) -> list[tuple[str, list[str]]]:
    """(file key, fields) for every access log line under ``root``."""
    rows = []
    for folder in sorted((root / world.LOG_BUCKET / "s3-access").iterdir()):
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            for line in path.read_text(encoding="utf-8").splitlines():
                fields = split_line(line)
                if bucket is None or fields[1] == bucket:
                    rows.append((path.relative_to(root / world.LOG_BUCKET).as_posix(), fields))
    return rows


def trail_records(root: Path) -> list[dict]:
    records = []
    for path in sorted((root / world.TRAIL_BUCKET / "AWSLogs" / world.ACCOUNT_ID / "CloudTrail").rglob("*.json.gz")):
        records += json.loads(gzip.decompress(path.read_bytes()))["Records"]
    return records


def log_time(field: str) -> datetime:
    return datetime.strptime(field, "[%d/%b/%Y:%H:%M:%S +0000]").replace(tzinfo=UTC)


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def lines(demo_world: Path) -> list[tuple[str, list[str]]]:
    return access_lines(demo_world)


@pytest.fixture(scope="module")
def records(demo_world: Path) -> list[dict]:
    return trail_records(demo_world)


@pytest.fixture(scope="module")
def truth(demo_world: Path) -> dict:
    return json.loads((demo_world / "ground_truth.json").read_text())


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# --- determinism ------------------------------------------------------------------------


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    generate(tmp_path / "a", days=1, seed=11)
    generate(tmp_path / "b", days=1, seed=11)
    a, b = tree_bytes(tmp_path / "a"), tree_bytes(tmp_path / "b")
    assert a.keys() == b.keys() and len(a) > 50
    assert [k for k in a if a[k] != b[k]] == []


def test_other_seed_gives_other_logs(tmp_path: Path) -> None:
    generate(tmp_path / "a", days=1, seed=1)
    generate(tmp_path / "b", days=1, seed=2)
    assert tree_bytes(tmp_path / "a") != tree_bytes(tmp_path / "b")


def test_regenerating_replaces_previous_output(tmp_path: Path) -> None:
    generate(tmp_path, days=1, seed=1)
    first = tree_bytes(tmp_path)
    generate(tmp_path, days=1, seed=2)
    generate(tmp_path, days=1, seed=1)
    assert tree_bytes(tmp_path) == first


def test_gzip_headers_carry_no_time_or_name(demo_world: Path) -> None:
    files = list((demo_world / world.TRAIL_BUCKET).rglob("*.json.gz"))
    assert files
    for path in files:
        head = path.read_bytes()[:10]
        assert head[:3] == b"\x1f\x8b\x08"
        assert head[3] == 0, f"{path} has gzip flags (file name?)"
        assert head[4:8] == b"\0\0\0\0", f"{path} has a gzip mtime"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"days": 0}, "days"), ({"days": "7"}, "days"), ({"seed": 1.5}, "seed"), ({"start": "16/11/2026"}, "start")],
    ids=["zero-days", "string-days", "float-seed", "bad-start"],
)
def test_bad_parameters_are_refused(tmp_path: Path, kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        generate(tmp_path, **kwargs)


def test_start_moves_the_window(tmp_path: Path) -> None:
    summary = generate(tmp_path, days=1, seed=1, start="2025-03-02")
    assert summary["start"] == "2025-03-02T00:00:00Z" and summary["end"] == "2025-03-03T00:00:00Z"
    times = [log_time(f[2]) for _, f in access_lines(tmp_path)]
    start = datetime(2025, 3, 2, tzinfo=UTC)
    assert min(times) >= start and max(times) < start + timedelta(days=1)


# --- layout -----------------------------------------------------------------------------


def test_every_file_is_laid_out_as_aws_delivers_it(demo_world: Path) -> None:
    seen = Counter()
    for bucket, key, _ in iter_objects(demo_world):
        if bucket == world.LOG_BUCKET:
            m = SITE_LOG.match(key)
            if m:
                # Partition date is the events' date; the name is the delivery time (same day or the next).
                partition = datetime(int(m[1]), int(m[2]), int(m[3]))
                named = datetime(int(m[4]), int(m[5]), int(m[6]))
                assert timedelta(0) <= named - partition <= timedelta(days=1), key
                seen["site"] += 1
            else:
                assert SIMPLE_LOG.match(key), key
                seen[key.split("/")[1]] += 1
        else:
            assert bucket == world.TRAIL_BUCKET, bucket
            m = TRAIL_FILE.match(key)
            if m:
                assert m.group(1, 2, 3) == m.group(4, 5, 6), key
                seen["trail"] += 1
            else:
                assert DIGEST_FILE.match(key), key
                seen["digest"] += 1
    assert seen["site"] > 600 and seen["data"] > 10 and seen["archive"] >= 1
    assert seen["trail"] > 20 and seen["digest"] == 2


def test_objects_are_about_a_quarter_hour_apart(demo_world: Path) -> None:
    site = demo_world / world.LOG_BUCKET / "s3-access/site"
    files = [p for p in site.rglob("*") if p.is_file()]
    assert 7 * 96 - 5 <= len(files) <= 7 * 96 + 2
    assert len({p.name[-16:] for p in files}) == len(files)


# --- access log lines -------------------------------------------------------------------


def test_every_line_has_27_well_formed_fields(lines: list, truth: dict) -> None:
    start, end = parse_iso(truth["start"]), parse_iso(truth["end"])
    addresses = {f[3] for _, f in lines}
    assert all(any(ipaddress.ip_address(a) in net for net in DOC_NETS) for a in addresses), addresses
    for key, f in lines:
        assert len(f) == 27, (key, f)
        assert f[0] == world.CANONICAL_OWNER_ID
        assert f[1] in (world.SITE_BUCKET, world.DATA_BUCKET, world.ARCHIVE_BUCKET)
        assert TIME.match(f[2]) and start <= log_time(f[2]) < end, f[2]
        assert re.fullmatch(r"[0-9A-F]{16}", f[5]), f[5]
        assert re.fullmatch(r"[A-Z]+\.[A-Z_.]+", f[6]), f[6]
        assert re.fullmatch(r"\d{3}", f[9])
        for n in (11, 12, 13, 14):
            assert f[n] == "-" or f[n].isdigit(), (n, f)
        if f[6] == "BATCH.DELETE.OBJECT":
            assert f[8] == f[15] == f[16] == "-"
        else:
            assert f[8].startswith('"') and f[15].startswith('"') and f[16][0] == f[16][-1] == '"'
        assert len(f[18]) == 76, f[18]
        assert f[23] in ("-", "TLSv1.2", "TLSv1.3")
        if f[22].endswith(".s3-website-us-east-1.amazonaws.com"):
            assert f[6].startswith("WEBSITE.") and f[19] == f[20] == f[21] == f[23] == "-"
        else:
            assert f[22] == f"{f[1]}.s3.us-east-1.amazonaws.com"
        if f[4] == "-":
            assert f[19] == f[21] == "-"  # anonymous: no signature, no authentication
        else:
            assert (f[19], f[21]) == ("SigV4", "AuthHeader")


def test_lines_are_roughly_but_not_strictly_time_ordered(lines: list) -> None:
    by_file: dict[str, list[str]] = {}
    for key, f in lines:
        by_file.setdefault(key, []).append(f[2])
    unordered = 0
    for key, stamps in by_file.items():
        times = [log_time(t) for t in stamps]
        assert max(times) - min(times) < timedelta(minutes=20), key
        unordered += any(b < a for a, b in itertools.pairwise(times))
    assert unordered > 0


def test_site_traffic_is_realistic(lines: list, truth: dict) -> None:
    site = [f for _, f in lines if f[1] == world.SITE_BUCKET]
    incident_ips = {ip for s in truth["scenarios"] for ip in s["source_ips"]}
    per_day = Counter(f[2][1:12] for f in site if f[3] not in incident_ips)
    assert all(15_000 <= n <= 25_000 for n in per_day.values()), per_day
    ops = Counter(f[6] for f in site)
    assert ops["WEBSITE.GET.OBJECT"] > 10_000 and ops["REST.GET.OBJECT"] > 10_000 and ops["REST.HEAD.OBJECT"] > 500
    statuses = Counter(f[9] for f in site)
    assert statuses["200"] > statuses["304"] > statuses["404"] > 100
    assert all(f[11] == "-" for f in site if f[9] == "304" or f[6].endswith(".HEAD.OBJECT"))
    assert any(f[7] == "favicon.ico" and f[10] == "NoSuchKey" for f in site)
    assert any(f[16].startswith('""') or '"LinkChecker"' in f[16] for f in site)
    agents = {f[16] for f in site}
    assert any("Googlebot" in a for a in agents) and any("iPhone" in a for a in agents) and any("Firefox" in a for a in agents)
    assert len({f[3] for f in site}) > 700
    listings = [f for f in site if f[6] == "REST.GET.BUCKET" and "assumed-role/site-deploy/" in f[4]]
    assert len(listings) >= 7
    # A daily rhythm: the busiest UTC hour sees several times the quietest one.
    hours = Counter(int(f[2][13:15]) for f in site)
    assert max(hours.values()) > 4 * min(hours.values())


# --- CloudTrail -------------------------------------------------------------------------


def test_cloudtrail_records_have_cloudtrails_shape(records: list) -> None:
    assert len(records) > 80
    ids = [r["eventID"] for r in records]
    assert len(set(ids)) == len(ids)
    for r in records:
        assert r["eventVersion"] in ("1.08", "1.09")
        assert r["recipientAccountId"] == world.ACCOUNT_ID and r["awsRegion"] == "us-east-1"
        assert str(uuid.UUID(r["eventID"])) == r["eventID"]
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", r["eventTime"])
        assert r["userIdentity"]["type"] in ("AssumedRole", "IAMUser", "AWSService", "AWSAccount")
        assert isinstance(r["readOnly"], bool) and isinstance(r["managementEvent"], bool)
        assert r["eventCategory"] == ("Management" if r["managementEvent"] else "Data")
        if r["eventCategory"] == "Data":
            assert r["eventSource"] == "s3.amazonaws.com" and not r["readOnly"]
            assert r["requestParameters"]["bucketName"] in (world.SITE_BUCKET, world.DATA_BUCKET)
            assert {"bytesTransferredIn", "bytesTransferredOut", "x-amz-id-2"} <= r["additionalEventData"].keys()
            assert any(res["type"] == "AWS::S3::Bucket" for res in r["resources"])
        if r["userIdentity"]["type"] == "AssumedRole":
            issuer = r["userIdentity"]["sessionContext"]["sessionIssuer"]
            assert r["userIdentity"]["arn"].startswith(f"arn:aws:sts::{world.ACCOUNT_ID}:assumed-role/{issuer['userName']}/")
    names = Counter(r["eventName"] for r in records)
    assert names["AssumeRole"] >= 7 and names["ConsoleLogin"] >= 3 and names["PutObject"] >= 14
    assert names["GetBucketPolicy"] > 0 and names["ListBuckets"] > 0
    anonymous = [r for r in records if r["userIdentity"].get("accountId") == "ANONYMOUS_PRINCIPAL"]
    assert anonymous and all(r["errorCode"] == "AccessDenied" for r in anonymous)


def test_data_events_match_access_log_lines(lines: list, records: list) -> None:
    by_id = {f[5]: f for _, f in lines}
    data = [r for r in records if r["eventCategory"] == "Data"]
    for r in data:
        f = by_id[r["requestID"]]
        assert f[3] == r["sourceIPAddress"] and f[18] == r["additionalEventData"]["x-amz-id-2"]
        if "key" in r["requestParameters"]:
            assert f[7] == r["requestParameters"]["key"]


def test_digest_files_list_the_log_files_with_their_hashes(demo_world: Path) -> None:
    import hashlib

    base = demo_world / world.TRAIL_BUCKET
    digests = sorted(base.rglob("*CloudTrail-Digest_*.json.gz"))
    assert len(digests) == 2
    for path in digests:
        digest = json.loads(gzip.decompress(path.read_bytes()))
        assert "Records" not in digest and digest["logFiles"]
        for entry in digest["logFiles"]:
            assert hashlib.sha256((base / entry["s3Object"]).read_bytes()).hexdigest() == entry["hashValue"]


# --- ground truth -----------------------------------------------------------------------


def test_ground_truth_has_the_agreed_shape(truth: dict) -> None:
    assert truth["seed"] == 7 and truth["account_id"] == world.ACCOUNT_ID
    assert (truth["start"], truth["end"]) == ("2026-11-16T00:00:00Z", "2026-11-23T00:00:00Z")
    ids = [s["id"] for s in truth["scenarios"]]
    assert ids == list(EXPECTED_DETECTIONS)
    keys = {"id", "title", "bucket", "source_ips", "principals", "start", "end", "expected_detections", "objects", "bytes", "notes"}
    days, hours = set(), set()
    for s in truth["scenarios"]:
        assert keys <= s.keys()
        assert s["expected_detections"] == EXPECTED_DETECTIONS[s["id"]]
        start, end = parse_iso(s["start"]), parse_iso(s["end"])
        assert parse_iso(truth["start"]) <= start <= end < parse_iso(truth["end"])
        days.add(start.date())
        hours.add(start.hour)
    assert len(days) == 5 and len(hours) == 5


def _scenario(truth: dict, scenario_id: str) -> dict:
    return next(s for s in truth["scenarios"] if s["id"] == scenario_id)


def test_incident_addresses_appear_only_in_their_incident(lines: list, records: list, truth: dict) -> None:
    for s in truth["scenarios"]:
        start, end = parse_iso(s["start"]), parse_iso(s["end"])
        mine = [f for _, f in lines if f[3] in s["source_ips"]]
        assert len(mine) == s["requests"], s["id"]
        assert all(start <= log_time(f[2]) <= end and f[1] == s["bucket"] for f in mine), s["id"]
        events = [r for r in records if r["sourceIPAddress"] in s["source_ips"]]
        assert len(events) == s["cloudtrail_events"], s["id"]


def test_flood_counts_and_bytes(lines: list, truth: dict) -> None:
    s = _scenario(truth, "get_flood")
    rows = [f for _, f in lines if f[3] == s["source_ips"][0]]
    assert len(rows) >= 3_000 and parse_iso(s["end"]) - parse_iso(s["start"]) <= timedelta(minutes=20)
    assert sum(int(f[11]) for f in rows) == s["bytes"]
    assert sorted({f[7] for f in rows}) == s["objects"]
    # Nobody else comes near: the busiest benign minute of any other address is far below the flood's mean.
    incident_ips = {ip for x in truth["scenarios"] for ip in x["source_ips"]}
    others = Counter((f[3], f[2][1:18]) for _, f in lines if f[3] not in incident_ips)
    assert max(others.values()) * 4 < len(rows) / 20


def test_exfiltration_downloads_every_export_from_a_new_address(lines: list, truth: dict) -> None:
    s = _scenario(truth, "role_exfiltration")
    ip = s["source_ips"][0]
    gets = [f for _, f in lines if f[3] == ip and f[6] == "REST.GET.OBJECT"]
    assert sorted(f[7] for f in gets) == sorted(s["objects"])
    assert all(f[4] == s["principals"][0] for f in gets)
    assert sum(int(f[11]) for f in gets) == s["bytes"] > 300_000_000
    before = [f for _, f in lines if f[1] == world.DATA_BUCKET and log_time(f[2]) < parse_iso(s["start"])]
    exports_seen = {f[7] for f in before if f[7].startswith("exports/")}
    assert set(s["objects"]) > exports_seen  # downloads more than the usual job ever reads
    assert {f[3] for f in before if f[4] == s["principals"][0]} == {"198.51.100.20"}


def test_scanner_probes_secrets_with_tool_agents(lines: list, truth: dict) -> None:
    s = _scenario(truth, "secret_scanner")
    rows = [f for _, f in lines if f[3] == s["source_ips"][0]]
    assert all(f[4] == "-" for f in rows)
    statuses = Counter(f[9] for f in rows)
    assert statuses["403"] > 100 and statuses["404"] > 50 and statuses["200"] <= 2
    assert any(f[7] == ".env" for f in rows) and any(f[7] == ".git/config" for f in rows)
    assert any(f[7].endswith(".pem") for f in rows) and any(f[7].endswith("id_rsa") for f in rows)
    assert {"Nuclei" in f[16] or "python-requests" in f[16] or "curl/" in f[16] for f in rows} == {True}
    assert sum(int(f[11]) for f in rows if f[11] != "-") == s["bytes"]


def test_archive_made_public_then_dark(lines: list, records: list, truth: dict) -> None:
    s = _scenario(truth, "archive_made_public")
    mine = [r for r in records if r["sourceIPAddress"] in s["source_ips"]]
    policy = next(r for r in mine if r["eventName"] == "PutBucketPolicy")
    assert policy["requestParameters"]["bucketName"] == world.ARCHIVE_BUCKET
    assert policy["requestParameters"]["bucketPolicy"]["Statement"][0]["Principal"] == "*"
    logging_off = next(r for r in mine if r["eventName"] == "PutBucketLogging")
    assert "LoggingEnabled" not in logging_off["requestParameters"]["BucketLoggingStatus"]
    assert parse_iso(policy["eventTime"]) < parse_iso(logging_off["eventTime"])
    assert all(r["userIdentity"]["arn"] == world.user_arn(world.ADMIN_USER) for r in mine)
    archive = [log_time(f[2]) for _, f in lines if f[1] == world.ARCHIVE_BUCKET]
    assert max(archive) == parse_iso(logging_off["eventTime"])  # nothing logged after


def test_mass_delete_lines_and_events_agree(lines: list, records: list, truth: dict) -> None:
    s = _scenario(truth, "mass_delete")
    rows = [f for _, f in lines if f[3] == s["source_ips"][0]]
    posts = [f for f in rows if f[6] == "REST.POST.MULTI_OBJECT_DELETE"]
    batch = [f for f in rows if f[6] == "BATCH.DELETE.OBJECT"]
    assert len(batch) == len(s["objects"]) >= 200 and sorted(f[7] for f in batch) == sorted(s["objects"])
    assert {f[5] for f in batch} == {f[5] for f in posts}
    assert sum(int(f[12]) for f in batch) == s["bytes"]
    deletes = [r for r in records if r["eventName"] == "DeleteObjects"]
    assert sorted(r["requestID"] for r in deletes) == sorted(f[5] for f in posts)
    assert all(r["requestParameters"]["bucketName"] == world.DATA_BUCKET for r in deletes)
