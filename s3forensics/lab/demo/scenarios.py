"""The five incidents of the demo world, each with its exact ground truth.

Every incident writes its own log rows and CloudTrail events into the context's sink and
returns a ground-truth entry counted from those very rows (requests, bytes, objects), so
the truth cannot drift from the logs. Incidents fall on distinct days (when the window
has enough of them) and always at distinct hours.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from s3forensics.lab.demo import fakes, world
from s3forensics.lab.demo.context import DEPLOY_SESSION, DemoContext
from s3forensics.lab.demo.records import ERROR_BODY_BYTES, Caller, anonymous_identity, user_identity
from s3forensics.lab.demo.traffic import assume_role_event, list_prefix

FLOOD_IP = "203.0.113.66"
ARCHIVE_ADMIN_IP = "203.0.113.77"
EXFIL_IP = "203.0.113.88"
DELETE_IP = "203.0.113.99"
SCANNER_IP = "192.0.2.201"

SCANNER_AGENT = "Nuclei - Open-source project (github.com/projectdiscovery/nuclei)"
FLOOD_AGENT = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
EXFIL_AGENT = (
    "aws-cli/2.22.35 md/awscrt#0.23.8 ua/2.1 os/linux#6.11.2-amd64 md/arch#x86_64 lang/python#3.12.6 "
    "md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#kali.2024 md/prompt#off md/command#s3.cp"
)
ADMIN_CLI_AGENT = (
    "aws-cli/2.22.35 md/awscrt#0.23.8 ua/2.1 os/windows#10 md/arch#amd64 lang/python#3.12.6 md/pyimpl#CPython "
    "cfg/retry-mode#standard md/installer#exe md/prompt#off md/command#s3api.{command}"
)
DELETE_AGENT = (
    "Boto3/1.35.36 md/Botocore#1.35.36 ua/2.0 os/linux#6.8.0-45-generic md/arch#x86_64 lang/python#3.12.3 "
    "md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.35.36"
)

#: Secret-looking paths a scanner tries, and the folders it tries them under.
SECRET_PATHS = (
    ".env", ".env.local", ".env.production", ".env.backup", ".git/config", ".git/HEAD", ".gitignore",
    ".aws/credentials", ".ssh/id_rsa", "id_rsa", "id_rsa.pub", "id_ed25519", "server.pem", "private.pem",
    "key.pem", "cert.pem", "privkey.pem", ".htpasswd", ".npmrc", ".DS_Store", "config.json", "credentials.json",
    "secrets.yml", "docker-compose.yml", "backup.sql", "dump.sql", "db.sqlite3", "wp-config.php.bak",
    "phpinfo.php", "web.config", "terraform.tfstate", ".vscode/sftp.json",
)  # fmt: skip
SCAN_FOLDERS = ("", "admin/", "backup/", "api/", "static/", "old/", "app/", "config/", "dev/")


def _denied(key: str) -> bool:
    """Keys the site's bucket policy denies even to the public (dot files, private keys)."""
    name = key.rsplit("/", 1)[-1]
    return key.startswith(".") or "/." in key or name.endswith(".pem") or name.startswith("id_")


@dataclass(frozen=True)
class Plan:
    """When one incident starts."""

    scenario_id: str
    start: datetime


#: (scenario id, fraction of the window that picks the day, hour, minute).
_SCHEDULE = (
    ("secret_scanner", 1 / 6, 13, 47),
    ("get_flood", 2 / 6, 3, 52),
    ("role_exfiltration", 3 / 6, 22, 18),
    ("archive_made_public", 4 / 6, 1, 26),
    ("mass_delete", 5 / 6, 9, 5),
)


def plan(start: datetime, days: int) -> list[Plan]:
    """Start times of the five incidents within ``days`` days from ``start``."""
    plans = []
    for scenario_id, fraction, hour, minute in _SCHEDULE:
        day = round(fraction * (days - 1))
        plans.append(Plan(scenario_id, start + timedelta(days=day, hours=hour, minutes=minute)))
    return plans


def ground_truth(
    scenario_id: str,
    title: str,
    bucket: str,
    rows: list[dict[str, Any]],
    events: list[dict[str, Any]],
    *,
    source_ips: list[str],
    principals: list[str],
    expected: list[str],
    objects: list[str],
    bytes_total: int,
    notes: str,
) -> dict[str, Any]:
    """A ground-truth entry: its window read from the incident's own rows and events."""
    times = [r["time"] for r in rows] + [datetime.fromisoformat(e["eventTime"].replace("Z", "+00:00")) for e in events]
    first = min(times).replace(microsecond=0)
    last = max(times).replace(microsecond=0)
    return {
        "id": scenario_id,
        "title": title,
        "bucket": bucket,
        "source_ips": source_ips,
        "principals": principals,
        "start": fakes.iso(first),
        "end": fakes.iso(last),
        "expected_detections": expected,
        "objects": objects,
        "bytes": bytes_total,
        "notes": notes,
        "requests": len(rows),
        "cloudtrail_events": len(events),
        "request_ids": sorted({r["request_id"] for r in rows} | {e["requestID"] for e in events if "requestID" in e}),
    }


def _anonymous(ip: str, agent: str, tls: bool = True) -> Caller:
    return Caller(
        ip=ip,
        user_agent=agent,
        requester=None,
        identity=anonymous_identity(),
        tls_version="TLSv1.3" if tls else None,
        cipher_suite="TLS_AES_128_GCM_SHA256" if tls else None,
        signature_version=None,
        authentication_type=None,
    )


def get_flood(ctx: DemoContext, t0: datetime) -> dict[str, Any]:
    """One address hammers the site with cache-busting GETs for twenty minutes."""
    rng = ctx.rng("get_flood")
    site = world.SITE_BUCKET
    caller = _anonymous(FLOOD_IP, FLOOD_AGENT, tls=True)
    keys = ("index.html",) * 12 + ("pricing.html",) * 3 + ("blog/index.html", "about.html", "css/site.css")
    rows = []
    t = t0
    end = t0 + timedelta(minutes=20)
    while t < end:
        key = rng.choice(keys)
        size = ctx.site_sizes[key]
        website = rng.random() < 0.7
        op = "WEBSITE.GET.OBJECT" if website else "REST.GET.OBJECT"
        turn = rng.randrange(3, 25)
        rows.append(
            ctx.sink.s3(
                site, t, caller, op, key, f"GET /{key}?cb={rng.randrange(10**6)} HTTP/1.1", 200,
                bytes_sent=size, object_size=size, total_time=turn + size // 9_000, turn_around_time=turn,
                website=website,
            )
        )  # fmt: skip
        # Bursty: a few requests per second, with short pauses.
        t += timedelta(seconds=rng.expovariate(4.5) if rng.random() < 0.99 else rng.uniform(2, 6))
    return ground_truth(
        "get_flood", "GET flood on the public site from one address", site, rows, [],
        source_ips=[FLOOD_IP], principals=[], expected=["request_rate_spike"],
        objects=sorted({r["key"] for r in rows}), bytes_total=sum(r["bytes_sent"] for r in rows),
        notes="Anonymous cache-busting GETs (?cb=...) through both endpoints for 20 minutes; every request answered 200.",
    )  # fmt: skip


def secret_scanner(ctx: DemoContext, t0: datetime) -> dict[str, Any]:
    """An anonymous scanner probes secret files on the site, then tries to write."""
    rng = ctx.rng("secret_scanner")
    site = world.SITE_BUCKET
    rows: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    t = t0
    curl = _anonymous(SCANNER_IP, "curl/8.5.0")
    for key in ("robots.txt", "index.html"):
        size = ctx.site_sizes[key]
        rows.append(ctx.sink.s3(
            site, t, curl, "REST.GET.OBJECT", key, f"GET /{key} HTTP/1.1", 200, bytes_sent=size, object_size=size,
            total_time=rng.randrange(10, 30), turn_around_time=rng.randrange(5, 10),
        ))  # fmt: skip
        t += timedelta(seconds=rng.uniform(0.5, 2))
    # Listing the bucket anonymously is denied.
    for uri in ("GET / HTTP/1.1", "GET /?list-type=2 HTTP/1.1"):
        rows.append(ctx.sink.s3(
            site, t, curl, "REST.GET.BUCKET", None, uri, 403, error_code="AccessDenied",
            bytes_sent=ERROR_BODY_BYTES["AccessDenied"], total_time=rng.randrange(5, 15), turn_around_time=4,
        ))  # fmt: skip
        t += timedelta(seconds=rng.uniform(0.5, 2))
    t += timedelta(seconds=rng.uniform(20, 60))
    nuclei = _anonymous(SCANNER_IP, SCANNER_AGENT)
    probes = [folder + path for folder in SCAN_FOLDERS for path in SECRET_PATHS]
    rng.shuffle(probes)
    for key in probes:
        website = rng.random() < 0.15
        op = "WEBSITE.GET.OBJECT" if website else "REST.GET.OBJECT"
        if _denied(key):
            status, error, sent = 403, "AccessDenied", ERROR_BODY_BYTES["AccessDenied"]
        else:
            status, error, sent = 404, "NoSuchKey", ERROR_BODY_BYTES["NoSuchKey"] + len(key)
        if website:
            sent = ctx.site_sizes["404.html"] if status == 404 else 303
        turn = rng.randrange(3, 12)
        rows.append(ctx.sink.s3(
            site, t, nuclei, op, key, f"GET /{key} HTTP/1.1", status, error_code=error, bytes_sent=sent,
            total_time=turn + 1, turn_around_time=turn, website=website,
        ))  # fmt: skip
        t += timedelta(seconds=rng.expovariate(1.6))
    # Is the bucket writable? Denied, and the trail records the denied write.
    python = _anonymous(SCANNER_IP, "python-requests/2.31.0")
    for _ in range(3):
        t += timedelta(seconds=rng.uniform(1, 4))
        key = f"s3f-probe-{rng.getrandbits(32):08x}.txt"
        record = ctx.sink.s3(
            site, t, python, "REST.PUT.OBJECT", key, f"PUT /{key} HTTP/1.1", 403, error_code="AccessDenied",
            bytes_sent=ERROR_BODY_BYTES["AccessDenied"], object_size=17, total_time=rng.randrange(5, 15), turn_around_time=5,
        )  # fmt: skip
        rows.append(record)
        events.append(ctx.sink.s3_event(
            t, python, "PutObject", site, key=key, data=True, read_only=False, request_id=record["request_id"],
            host_id=record["host_id"], bytes_in=17, error=("AccessDenied", "Access Denied"),
        ))  # fmt: skip
    return ground_truth(
        "secret_scanner", "Anonymous scanner probing secret files on the public site", site, rows, events,
        source_ips=[SCANNER_IP], principals=[],
        expected=["secret_file_probing", "scanner_user_agent", "access_denied_burst"],
        objects=sorted({r["key"] for r in rows if r["key"]}), bytes_total=sum(r["bytes_sent"] or 0 for r in rows),
        notes=(
            "curl fetches robots.txt and index.html, tries to list the bucket (403), then Nuclei probes "
            f"{len(probes)} secret paths (dot files and private keys are denied by the bucket policy: 403 "
            "AccessDenied; the rest 404 NoSuchKey), then python-requests tries three anonymous PUTs (403, "
            "also in CloudTrail as ANONYMOUS_PRINCIPAL)."
        ),
    )  # fmt: skip


def role_exfiltration(ctx: DemoContext, t0: datetime) -> dict[str, Any]:
    """The analytics-export instance credentials, stolen, download all of exports/ elsewhere."""
    rng = ctx.rng("role_exfiltration")
    data = world.DATA_BUCKET
    day = (t0 - ctx.start).days
    caller = ctx.analytics_caller(day, ip=EXFIL_IP, user_agent=EXFIL_AGENT)
    caller = replace(caller, tls_version="TLSv1.3", cipher_suite="TLS_AES_256_GCM_SHA384")
    exports = sorted(k for k, c in ctx.data_created.items() if k.startswith("exports/") and c <= t0)
    rows = [list_prefix(ctx, t0, caller, data, "exports/", len(exports))]
    t = t0 + timedelta(seconds=rng.uniform(1, 3))
    for key in exports:
        size = ctx.data_sizes[key]
        turn = rng.randrange(10, 40)
        rows.append(ctx.sink.s3(
            data, t, caller, "REST.GET.OBJECT", key, f"GET /{key} HTTP/1.1", 200, bytes_sent=size, object_size=size,
            total_time=turn + size // 2_500, turn_around_time=turn,
        ))  # fmt: skip
        t += timedelta(seconds=rng.uniform(1, 9))
    gets = [r for r in rows if r["operation"] == "REST.GET.OBJECT"]
    return ground_truth(
        "role_exfiltration", "analytics-export role credentials used from a new address to download exports/", data,
        rows, [], source_ips=[EXFIL_IP], principals=[caller.requester or "", world.role_arn(world.ANALYTICS_ROLE)],
        expected=["large_egress", "new_principal_or_ip_reading"],
        objects=[r["key"] for r in gets], bytes_total=sum(r["bytes_sent"] for r in gets),
        notes=(
            "The instance role's session credentials of the day are used with the AWS CLI (s3 cp --recursive) "
            f"from {EXFIL_IP}, never seen before; the usual host is {fakes.ANALYTICS_HOST_IP}. Reads are not "
            "in CloudTrail (the trail records write data events only): the access logs are the evidence."
        ),
    )  # fmt: skip


def archive_made_public(ctx: DemoContext, t0: datetime) -> dict[str, Any]:
    """ops-admin's access key, from an unusual address, opens the archive and turns its logging off."""
    rng = ctx.rng("archive_made_public")
    archive = world.ARCHIVE_BUCKET

    def caller(command: str) -> Caller:
        return Caller(
            ip=ARCHIVE_ADMIN_IP,
            user_agent=ADMIN_CLI_AGENT.format(command=command),
            requester=world.user_arn(world.ADMIN_USER),
            identity=user_identity(world.ADMIN_USER, ctx.admin_key),
        )

    rows: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    t = t0
    events.append(ctx.sink.api_event(
        t, caller("list-buckets"), "s3.amazonaws.com", "ListBuckets", read_only=True,
        request_parameters={"Host": "s3.us-east-1.amazonaws.com"}, response_elements=None,
        tls_host="s3.us-east-1.amazonaws.com",
    ))  # fmt: skip

    def bucket_call(
        t: datetime, command: str, name: str, op: str, method: str, sub: str, status: int, sent: int | None,
        params: dict[str, Any], error: tuple[str, str] | None = None, bytes_in: int = 0,
    ) -> None:
        c = caller(command)
        record = ctx.sink.s3(
            archive, t, c, op, None, f"{method} /?{sub} HTTP/1.1", status, error_code=error[0] if error else None,
            bytes_sent=sent, total_time=rng.randrange(20, 90), turn_around_time=rng.randrange(10, 60),
        )  # fmt: skip
        rows.append(record)
        events.append(ctx.sink.s3_event(
            t, c, name, archive, data=False, read_only=method == "GET", request_id=record["request_id"],
            host_id=record["host_id"], request_parameters=params, error=error, bytes_in=bytes_in,
            bytes_out=sent or 0,
        ))  # fmt: skip

    t += timedelta(seconds=rng.uniform(15, 40))
    bucket_call(
        t, "get-bucket-policy", "GetBucketPolicy", "REST.GET.BUCKETPOLICY", "GET", "policy", 404,
        ERROR_BODY_BYTES["NoSuchBucketPolicy"], {"policy": ""},
        error=("NoSuchBucketPolicy", "The bucket policy does not exist"),
    )  # fmt: skip
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PublicRead",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{archive}/*",
            }
        ],
    }
    t += timedelta(seconds=rng.uniform(40, 90))
    bucket_call(
        t, "put-bucket-policy", "PutBucketPolicy", "REST.PUT.BUCKETPOLICY", "PUT", "policy", 204, None,
        {"bucketPolicy": policy, "policy": ""}, bytes_in=len(json.dumps(policy)),
    )  # fmt: skip
    t += timedelta(seconds=rng.uniform(120, 240))
    bucket_call(
        t, "get-bucket-logging", "GetBucketLogging", "REST.GET.LOGGING_STATUS", "GET", "logging", 200, 531,
        {"logging": ""},
    )  # fmt: skip
    t += timedelta(seconds=rng.uniform(30, 80))
    bucket_call(
        t, "put-bucket-logging", "PutBucketLogging", "REST.PUT.LOGGING_STATUS", "PUT", "logging", 200, None,
        {"logging": "", "BucketLoggingStatus": {"xmlns": "http://s3.amazonaws.com/doc/2006-03-01/"}}, bytes_in=108,
    )  # fmt: skip
    return ground_truth(
        "archive_made_public", "Archive bucket made public, then its access logging disabled", archive, rows, events,
        source_ips=[ARCHIVE_ADMIN_IP], principals=[world.user_arn(world.ADMIN_USER)],
        expected=["bucket_made_public", "logging_evasion"], objects=[], bytes_total=0,
        notes=(
            "ops-admin's long-term access key (the user normally works in the console from the office) is used "
            f"with the AWS CLI from {ARCHIVE_ADMIN_IP}: PutBucketPolicy with Principal \"*\" on s3:GetObject, "
            "then PutBucketLogging with an empty BucketLoggingStatus. The archive's access logs end there."
        ),
    )  # fmt: skip


def mass_delete(ctx: DemoContext, t0: datetime) -> dict[str, Any]:
    """Stolen CI keys assume site-deploy from a new address and delete all invoices in batches."""
    rng = ctx.rng("mass_delete")
    data = world.DATA_BUCKET
    ci = Caller(
        ip=DELETE_IP,
        user_agent=DELETE_AGENT,
        requester=world.user_arn(world.CI_USER),
        identity=user_identity(world.CI_USER, ctx.ci_key),
    )
    session_key = fakes.access_key_id(rng, "ASIA")
    assume_role_event(ctx, t0, ci, world.DEPLOY_ROLE, DEPLOY_SESSION, session_key)
    events = [ctx.sink.trail[-1][1]]
    caller = ctx.deploy_caller(session_key, t0, ip=DELETE_IP, user_agent=DELETE_AGENT)
    invoices = sorted(k for k in ctx.data_sizes if k.startswith("invoices/"))
    t = t0 + timedelta(seconds=rng.uniform(20, 60))
    rows = [list_prefix(ctx, t, caller, data, "invoices/", len(invoices))]
    batch_size = 160
    for first in range(0, len(invoices), batch_size):
        batch = invoices[first : first + batch_size]
        t += timedelta(seconds=rng.uniform(8, 30))
        body_in = 120 + sum(len(k) + 26 for k in batch)
        body_out = 110 + sum(len(k) + 34 for k in batch)
        post = ctx.sink.s3(
            data, t, caller, "REST.POST.MULTI_OBJECT_DELETE", None, "POST /?delete HTTP/1.1", 200,
            bytes_sent=body_out, total_time=rng.randrange(400, 1500), turn_around_time=rng.randrange(300, 1200),
        )  # fmt: skip
        rows.append(post)
        for key in batch:
            rows.append(ctx.sink.s3(
                data, t, caller, "BATCH.DELETE.OBJECT", key, None, 204, object_size=ctx.data_sizes[key],
                request_id=post["request_id"], host_id=post["host_id"],
            ))  # fmt: skip
        events.append(ctx.sink.s3_event(
            t, caller, "DeleteObjects", data, data=True, read_only=False, request_id=post["request_id"],
            host_id=post["host_id"], request_parameters={"delete": ""}, bytes_in=body_in, bytes_out=body_out,
            resources=[
                {"type": "AWS::S3::Object", "ARNPrefix": f"arn:aws:s3:::{data}/"},
                {"accountId": world.ACCOUNT_ID, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{data}"},
            ],
        ))  # fmt: skip
    for key in invoices:
        ctx.data_sizes.pop(key)
        ctx.data_created.pop(key, None)
    deleted = [r for r in rows if r["operation"] == "BATCH.DELETE.OBJECT"]
    return ground_truth(
        "mass_delete", "Mass deletion of invoices in the data bucket with DeleteObjects", data, rows, events,
        source_ips=[DELETE_IP], principals=[caller.requester or "", world.user_arn(world.CI_USER)],
        expected=["mass_delete"], objects=[r["key"] for r in deleted],
        bytes_total=sum(r["object_size"] for r in deleted),
        notes=(
            f"The CI user's access key assumes site-deploy from {DELETE_IP} (the runner is "
            f"{fakes.CI_RUNNER_IP}), lists invoices/ and deletes all {len(deleted)} of them in "
            f"{len(events) - 1} DeleteObjects calls; each call is one REST.POST.MULTI_OBJECT_DELETE line plus "
            "one BATCH.DELETE.OBJECT line per key, all with the CloudTrail event's requestID. bytes is the "
            "total size of the deleted objects."
        ),
    )  # fmt: skip


SCENARIOS: dict[str, Callable[[DemoContext, datetime], dict[str, Any]]] = {
    "get_flood": get_flood,
    "role_exfiltration": role_exfiltration,
    "secret_scanner": secret_scanner,
    "archive_made_public": archive_made_public,
    "mass_delete": mass_delete,
}


def archive_logging_off(plans: list[Plan]) -> datetime:
    """Upper bound of when the archive's logging goes dark (the incident ends within 8 minutes)."""
    start = next(p.start for p in plans if p.scenario_id == "archive_made_public")
    return start + timedelta(minutes=8)


def run_scenarios(ctx: DemoContext, plans: list[Plan]) -> list[dict[str, Any]]:
    """Inject every incident, in time order; ground truth in the interface's order of ids."""
    truths = {p.scenario_id: SCENARIOS[p.scenario_id](ctx, p.start) for p in sorted(plans, key=lambda p: p.start)}
    return [truths[scenario_id] for scenario_id in SCENARIOS]
