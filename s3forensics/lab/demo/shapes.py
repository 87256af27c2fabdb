"""Benign worlds of the shapes a responder meets, each with incidents injected.

The demo world mixes three buckets of one small company. A detection tuned on it alone can
stay quiet there and still drown other buckets in alarms, so each shape here is one bucket
of another kind, with the traffic that is normal for it and the incidents that hurt it:

* ``website``: a public static site served through the website endpoint, with media and
  downloads fetched over REST, daily deploys that delete old assets, crawlers and probes.
* ``downloads``: public downloads over REST, every read recorded in CloudTrail as
  ``ANONYMOUS_PRINCIPAL``, mostly new addresses every day, mirrors pulling gigabytes.
* ``data_platform``: a private data lake: ingest, nightly batch reads, compaction that
  deletes thousands of small files, lifecycle expiry, replication, a partner account.
* ``cloudfront``: an origin reached only through CloudFront origin access control.
* ``busy``: an app's user-content bucket at a million requests a day (CloudFront, app
  servers in the VPC on hourly role sessions, uploads recorded in CloudTrail).

Every shape writes the demo world's layout (access logs under ``s3f-demo-logs``, CloudTrail
under ``s3f-demo-cloudtrail``, ``ground_truth.json``), so ``detect --evaluate`` scores it
with no profile, allowlist or account given. Incidents fall on the later days: the first
day is the history a new actor is judged against.

Shapes of records follow AWS's documentation of server access logs and CloudTrail, and the
public samples in the corpus (lifecycle expiry as requester ``AmazonS3`` with operation
``S3.EXPIRE.OBJECT``; anonymous CloudTrail callers as ``accountId`` ``ANONYMOUS_PRINCIPAL``).
"""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from s3forensics.errors import ConfigError
from s3forensics.lab.demo import fakes, world
from s3forensics.lab.demo.context import DemoContext
from s3forensics.lab.demo.generate import MAX_DAYS, parse_start, write_access_logs, write_trail
from s3forensics.lab.demo.records import (
    ERROR_BODY_BYTES,
    Caller,
    Sink,
    anonymous_identity,
    assumed_role_arn,
    role_identity,
    service_identity,
    user_identity,
)
from s3forensics.lab.demo.scenarios import ground_truth

#: Another account of the documentation's examples: a partner reading by design.
PARTNER_ACCOUNT = "444455556666"
#: The attacker's account.
ATTACKER_ACCOUNT = "999988887777"
DEFAULT_DAYS = 3

_BROWSER = fakes.BROWSER_AGENTS[0][0]
_CURL = "curl/8.5.0"
_BOTO = "Boto3/1.35.36 md/Botocore#1.35.36 ua/2.0 os/linux#6.8.0-45-generic md/arch#x86_64 lang/python#3.12.3 md/pyimpl#CPython Botocore/1.35.36"
_SPARK = "aws-sdk-java/2.25.60 Linux/5.10.220-209.869.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.11+9-LTS Java/17.0.11 vendor/Amazon.com_Inc. exec-env/AWS_EMR io/sync http/Apache cfg/retry-mode/standard"
_ATTACKER_CLI = (
    "aws-cli/2.22.35 md/awscrt#0.23.8 ua/2.1 os/linux#6.11.2-amd64 md/arch#x86_64 lang/python#3.12.6 "
    "md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#kali.2024 md/prompt#off"
)
_CLOUDFRONT_AGENT = "Amazon CloudFront"


@dataclass(frozen=True)
class Shape:
    """One kind of bucket: how to write its world."""

    id: str
    title: str
    bucket: str
    build: Callable[[ShapeWorld], list[dict[str, Any]]]
    #: Days the evaluation generates by default (the first is history).
    days: int = DEFAULT_DAYS


class ShapeWorld:
    """What one shape's generator works with: the window, a sink and named random streams."""

    def __init__(self, seed: int, start: datetime, days: int, bucket: str) -> None:
        self.ctx = DemoContext(seed=seed, start=start, days=days, sink=Sink(random.Random(f"{seed}:{bucket}:ids")))
        self.bucket = bucket
        self.seed = seed

    @property
    def start(self) -> datetime:
        return self.ctx.start

    @property
    def end(self) -> datetime:
        return self.ctx.end

    @property
    def days(self) -> int:
        return self.ctx.days

    @property
    def sink(self) -> Sink:
        return self.ctx.sink

    def rng(self, name: str) -> random.Random:
        return self.ctx.rng(f"{self.bucket}:{name}")

    def day(self, n: int) -> datetime:
        return self.start + timedelta(days=n)

    def incident_day(self, fraction: float) -> datetime:
        """A later day of the window (never the first, which is history)."""
        return self.day(max(1, min(self.days - 1, round(fraction * (self.days - 1)))))

    # --- records ----------------------------------------------------------------

    def log(self, t: datetime, caller: Caller, op: str, key: str | None, status: int, **kw: Any) -> dict[str, Any]:
        """One access log line on the shape's bucket."""
        method = {"GET": "GET", "HEAD": "HEAD", "PUT": "PUT", "DELETE": "DELETE", "POST": "POST", "COPY": "PUT"}
        verb = method.get(op.split(".")[1], "GET") if "." in op else "GET"
        uri = kw.pop("uri", None) or (f"{verb} /{key} HTTP/1.1" if key else f"{verb} / HTTP/1.1")
        if op.startswith(("S3.", "BATCH.")):
            uri = None
        kw.setdefault("total_time", 12)
        kw.setdefault("turn_around_time", 8)
        return self.sink.s3(self.bucket, t, caller, op, key, uri, status, **kw)

    def event(
        self, t: datetime, caller: Caller, name: str, *, key: str | None = None, data: bool = True, read_only: bool = False,
        record: dict[str, Any] | None = None, **kw: Any,
    ) -> dict[str, Any]:  # fmt: skip
        """The CloudTrail event of an S3 call on the shape's bucket (same request id as ``record``)."""
        rng = self.sink.rng
        return self.sink.s3_event(
            t, caller, name, self.bucket, key=key, data=data, read_only=read_only,
            request_id=record["request_id"] if record else fakes.request_id(rng),
            host_id=record["host_id"] if record else fakes.host_id(rng), **kw,
        )  # fmt: skip

    def truth(
        self, scenario_id: str, title: str, rows: list[dict[str, Any]], events: list[dict[str, Any]], *,
        source_ips: list[str], principals: list[str], expected: list[str], notes: str,
    ) -> dict[str, Any]:  # fmt: skip
        """A ground-truth entry counted from the incident's own rows and events."""
        return ground_truth(
            scenario_id, title, self.bucket, rows, events, source_ips=source_ips, principals=principals,
            expected=expected, objects=sorted({r["key"] for r in rows if r.get("key")}),
            bytes_total=sum(r.get("bytes_sent") or 0 for r in rows), notes=notes,
        )  # fmt: skip


# --- callers ----------------------------------------------------------------------------


def fresh_ip(rng: random.Random) -> str:
    """An IPv6 documentation address, new almost every time (a visitor never seen before)."""
    return f"2001:db8:{rng.randrange(1, 0xFFFF):x}:{rng.randrange(0, 0xFFFF):x}::{rng.randrange(1, 0xFFFF):x}"


def anonymous(ip: str, agent: str, *, trail: bool = False, tls: bool = True) -> Caller:
    """An unauthenticated caller (``trail``: with the CloudTrail identity S3 records for it)."""
    return Caller(
        ip, agent, None, anonymous_identity() if trail else {}, "TLSv1.3" if tls else None,
        "TLS_AES_128_GCM_SHA256" if tls else None, None, None,
    )  # fmt: skip


def role_caller(role: str, session: str, key: str, created: datetime, ip: str, agent: str) -> Caller:
    """An assumed-role session of the account."""
    return Caller(
        ip,
        agent,
        assumed_role_arn(role, session),
        role_identity(role, session, key, created),
        "TLSv1.2",
        "ECDHE-RSA-AES128-GCM-SHA256",
    )


def foreign_role_caller(
    account: str, role: str, session: str, key: str, created: datetime, ip: str, agent: str
) -> Caller:
    """A role session of another account (its userIdentity names that account)."""
    identity = role_identity(role, session, key, created)
    arn = f"arn:aws:sts::{account}:assumed-role/{role}/{session}"
    identity.update(arn=arn, accountId=account)
    identity["sessionContext"]["sessionIssuer"].update(arn=f"arn:aws:iam::{account}:role/{role}", accountId=account)
    return Caller(ip, agent, arn, identity, "TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256")


def cloudfront_caller(ip: str) -> Caller:
    """CloudFront fetching from the origin with origin access control (SigV4 as the service)."""
    return Caller(
        ip,
        _CLOUDFRONT_AGENT,
        "svc:cloudfront.amazonaws.com",
        service_identity("cloudfront.amazonaws.com"),
        "TLSv1.3",
        "TLS_AES_128_GCM_SHA256",
    )


def _hourly(w: ShapeWorld, rng: random.Random, per_day: float) -> list[datetime]:
    """Arrival times over the window with the audience's daily rhythm (weekends quieter)."""
    weights = fakes.hour_weights_utc()
    scale = per_day / sum(weights)
    times = []
    for d in range(w.days):
        day_start = w.day(d)
        factor = 0.8 if day_start.weekday() >= 5 else 1.0
        for hour in range(24):
            mean = scale * weights[hour] * factor
            for _ in range(max(0, round(rng.gauss(mean, mean**0.5)))):
                times.append(day_start + timedelta(hours=hour, seconds=rng.random() * 3600))
    return sorted(times)


def _every(w: ShapeWorld, rng: random.Random, seconds: float) -> list[datetime]:
    t = w.start + timedelta(seconds=rng.uniform(0, seconds))
    out = []
    while t < w.end:
        out.append(t)
        t += timedelta(seconds=seconds + rng.uniform(-1, 1))
    return out


def delete_body_bytes(keys: list[str]) -> int:
    """Size of a DeleteObjects request body (``<Delete><Object><Key>k</Key></Object>...</Delete>``),
    what CloudTrail records as bytesTransferredIn."""
    return len("<Delete></Delete>") + sum(len("<Object><Key></Key></Object>") + len(k) for k in keys)


def _policy_call(
    w: ShapeWorld, t: datetime, caller: Caller, policy: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    record = w.log(t, caller, "REST.PUT.BUCKETPOLICY", None, 204, uri="PUT /?policy HTTP/1.1")
    event = w.event(
        t,
        caller,
        "PutBucketPolicy",
        data=False,
        record=record,
        request_parameters={"bucketPolicy": policy, "policy": ""},
        bytes_in=len(json.dumps(policy)),
    )
    return record, event


def _backdoor_policy(bucket: str, keep: list[dict[str, Any]]) -> dict[str, Any]:
    """The bucket's policy with one more statement granting the attacker's account everything."""
    grant = {
        "Sid": "Replication",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ATTACKER_ACCOUNT}:root"},
        "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
    }
    return {"Version": "2012-10-17", "Statement": [*keep, grant]}


def _public_read(bucket: str) -> dict[str, Any]:
    return {
        "Sid": "PublicRead",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*",
    }


# --- website ------------------------------------------------------------------------------


def _website(w: ShapeWorld) -> list[dict[str, Any]]:
    rng = w.rng("traffic")
    pages = {f"p/{n:03d}.html": 8_000 + rng.randrange(30_000) for n in range(120)} | {"index.html": 21_000}
    assets = {f"assets/{name}-{rng.getrandbits(32):08x}.{ext}": size for name, ext, size in (
        ("app", "js", 180_000), ("vendor", "js", 320_000), ("site", "css", 52_000), ("logo", "svg", 4_000))}  # fmt: skip
    media = {f"media/talk-{n:02d}.mp4": 40_000_000 + rng.randrange(260_000_000) for n in range(30)}
    downloads = {f"downloads/brochure-{n:02d}.pdf": 2_000_000 + rng.randrange(9_000_000) for n in range(12)}
    returning = fakes.visitor_pool(rng, 1500)
    agents, weights = zip(*fakes.BROWSER_AGENTS, strict=True)
    for t in _hourly(w, rng, 3_600):
        ip = fresh_ip(rng) if rng.random() < 0.6 else returning[int(len(returning) * rng.random() ** 1.5)]
        caller = anonymous(ip, rng.choices(agents, weights)[0])
        website = rng.random() < 0.85
        op = "WEBSITE.GET.OBJECT" if website else "REST.GET.OBJECT"
        for n in range(1 + int(rng.expovariate(0.7))):
            page = rng.choice(list(pages)) if n or rng.random() < 0.5 else "index.html"
            w.log(t, caller, op, page, 200, bytes_sent=pages[page], object_size=pages[page], website=website)
            if n == 0:
                for key, size in assets.items():
                    w.log(t + timedelta(seconds=0.4), caller, op, key, 304 if rng.random() < 0.3 else 200,
                          bytes_sent=size, object_size=size, website=website)  # fmt: skip
            if rng.random() < 0.06:
                w.log(t, caller, op, "favicon.ico", 404, error_code="NoSuchKey", bytes_sent=1_024, website=website)
            t += timedelta(seconds=5 + rng.expovariate(1 / 30))
        if rng.random() < 0.12:  # a talk watched or a brochure fetched over HTTPS
            key = rng.choice(list(media) + list(downloads))
            size = media.get(key) or downloads[key]
            if key in media:
                offset = 0
                while offset < size and rng.random() < 0.9:
                    chunk = min(size - offset, 8_388_608)
                    w.log(t, caller, "REST.GET.OBJECT", key, 206, bytes_sent=chunk, object_size=size)
                    offset += chunk
                    t += timedelta(seconds=rng.uniform(2, 20))
            else:
                w.log(t, caller, "REST.GET.OBJECT", key, 200, bytes_sent=size, object_size=size)
    # Crawlers, two uptime probes.
    for name, ips in fakes.CRAWLER_IPS.items():
        for t in _hourly(w, rng, {"googlebot": 900, "bingbot": 400, "yandexbot": 120}[name]):
            key = rng.choice(list(pages))
            w.log(t, anonymous(rng.choice(ips), fakes.CRAWLER_AGENTS[name], tls=False), "WEBSITE.GET.OBJECT", key, 200,
                  bytes_sent=pages[key], object_size=pages[key], website=True)  # fmt: skip
    probe = anonymous(fakes.UPTIME_MONITOR_IP, fakes.UPTIME_AGENT)
    for t in _every(w, rng, 60):
        w.log(t, probe, "REST.HEAD.OBJECT", "index.html", 200, object_size=pages["index.html"])
    probe2 = anonymous("198.51.100.41", "Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)", tls=False)
    for t in _every(w, rng, 300):
        w.log(
            t,
            probe2,
            "WEBSITE.GET.OBJECT",
            "index.html",
            200,
            bytes_sent=pages["index.html"],
            object_size=pages["index.html"],
            website=True,
        )
    # Daily deploy: sync with --delete (new hashed assets in, old ones out), CloudTrail write events.
    for d in range(w.days):
        t = w.day(d) + timedelta(hours=16, seconds=rng.randrange(3600))
        deploy = role_caller(
            "site-deploy", "gha-deploy", fakes.access_key_id(rng), t, fakes.CI_RUNNER_IP, fakes.AWS_CLI_SYNC
        )
        w.log(
            t,
            deploy,
            "REST.GET.BUCKET",
            None,
            200,
            uri="GET /?list-type=2&prefix=&encoding-type=url HTTP/1.1",
            bytes_sent=40_000,
        )
        for n in range(rng.randrange(40, 120)):
            t += timedelta(seconds=rng.uniform(0.05, 0.4))
            key = f"assets/chunk-{rng.getrandbits(40):010x}.js"
            record = w.log(t, deploy, "REST.PUT.OBJECT", key, 200, object_size=20_000 + n)
            w.event(t, deploy, "PutObject", key=key, record=record, bytes_in=20_000 + n)
        for _ in range(rng.randrange(60, 140)):  # old chunks removed one by one
            t += timedelta(seconds=rng.uniform(0.05, 0.3))
            key = f"assets/chunk-{rng.getrandbits(40):010x}.js"
            record = w.log(t, deploy, "REST.DELETE.OBJECT", key, 204)
            w.event(t, deploy, "DeleteObject", key=key, record=record)
    # The morning reporting job reads yesterday's stats.
    for d in range(w.days):
        t = w.day(d) + timedelta(hours=6, minutes=5, seconds=rng.randrange(300))
        job = role_caller("site-reporting", "report", fakes.access_key_id(rng), t, fakes.ANALYTICS_HOST_IP, _BOTO)
        w.log(t, job, "REST.GET.BUCKET", None, 200, uri="GET /?list-type=2&prefix=stats%2F HTTP/1.1", bytes_sent=3_000)
        for n in range(3):
            w.log(
                t + timedelta(seconds=n),
                job,
                "REST.GET.OBJECT",
                f"stats/{n}.json",
                200,
                bytes_sent=40_000,
                object_size=40_000,
            )

    truths = []
    # 1. A GET flood from one address: cache-busting requests, several a second, twenty minutes.
    t = w.incident_day(0.5) + timedelta(hours=3, minutes=52)
    flood = anonymous("203.0.113.66", _BROWSER)
    rows = []
    end = t + timedelta(minutes=20)
    while t < end:
        key = rng.choice(["index.html", *pages][:12])
        rows.append(w.log(t, flood, "WEBSITE.GET.OBJECT", key, 200, uri=f"GET /{key}?cb={rng.randrange(10**6)} HTTP/1.1",
                          bytes_sent=pages[key], object_size=pages[key], website=True))  # fmt: skip
        t += timedelta(seconds=rng.expovariate(5))
    truths.append(w.truth("get_flood", "GET flood on the site from one address", rows, [], source_ips=["203.0.113.66"], principals=[],
                          expected=["request_rate_spike"], notes="Cache-busting anonymous GETs through the website endpoint, about five a second."))  # fmt: skip
    # 2. A scanner probing for secret files over REST.
    t = w.incident_day(0.5) + timedelta(hours=13, minutes=47)
    scanner = anonymous(
        "192.0.2.201", "Mozilla/5.0 (compatible; Nuclei - Open-source project (github.com/projectdiscovery/nuclei))"
    )
    rows = []
    for folder in ("", "admin/", "backup/", "static/"):
        for name in (
            ".env",
            ".git/config",
            ".aws/credentials",
            "id_rsa",
            "server.pem",
            "backup.sql",
            "config.json",
            "terraform.tfstate",
        ):
            t += timedelta(seconds=rng.expovariate(2))
            rows.append(
                w.log(
                    t,
                    scanner,
                    "REST.GET.OBJECT",
                    folder + name,
                    403,
                    error_code="AccessDenied",
                    bytes_sent=ERROR_BODY_BYTES["AccessDenied"],
                )
            )
    truths.append(w.truth("secret_scanner", "Scanner probing secret files on the site", rows, [], source_ips=["192.0.2.201"], principals=[],
                          expected=["secret_file_probing"], notes="32 secret-looking paths over REST, all denied."))  # fmt: skip
    # 3. Stolen deploy keys, from a new address, add a grant to the attacker's account.
    t = w.incident_day(1.0) + timedelta(hours=2, minutes=11)
    thief = role_caller("site-deploy", "gha-deploy", fakes.access_key_id(rng), t, "203.0.113.77", _ATTACKER_CLI)
    record, event = _policy_call(w, t, thief, _backdoor_policy(w.bucket, [_public_read(w.bucket)]))
    truths.append(w.truth("policy_backdoor", "Bucket policy grants another account everything", [record], [event], source_ips=["203.0.113.77"],
                          principals=[thief.requester or ""], expected=["bucket_made_public"],
                          notes=f"PutBucketPolicy keeps the public read and adds s3:* for account {ATTACKER_ACCOUNT}."))  # fmt: skip
    return truths


# --- public downloads recorded in CloudTrail ---------------------------------------------


def _downloads(w: ShapeWorld) -> list[dict[str, Any]]:
    rng = w.rng("traffic")
    files = {f"releases/v{n // 4}.{n % 4}/tool-{arch}.tar.gz": 60_000_000 + rng.randrange(500_000_000)
             for n in range(24) for arch in ("linux-amd64", "linux-arm64", "darwin", "windows")}  # fmt: skip
    files |= {f"datasets/part-{n:04d}.parquet": 500_000_000 + rng.randrange(1_500_000_000) for n in range(300)}
    latest = [k for k in files if k.startswith("releases/v5.")]
    agents = ("curl/8.5.0", "Wget/1.21.4", "python-requests/2.32.3", _BROWSER, "aria2/1.37.0", "Go-http-client/2.0")

    def get(t: datetime, caller: Caller, key: str, status: int = 200, sent: int | None = None) -> None:
        size = files.get(key, 2_048)
        record = w.log(
            t, caller, "REST.GET.OBJECT", key, status, bytes_sent=size if sent is None else sent, object_size=size
        )
        w.event(t, caller, "GetObject", key=key, read_only=True, record=record, bytes_out=record["bytes_sent"] or 0)

    for t in _hourly(w, rng, 1_800):
        caller = anonymous(fresh_ip(rng), rng.choice(agents), trail=True)
        r = rng.random()
        if r < 0.6:
            key = rng.choice(latest)
            get(t, caller, "releases/index.json", sent=2_048)
            get(t + timedelta(seconds=0.5), caller, key)
            if rng.random() < 0.5:
                get(t + timedelta(seconds=30), caller, key + ".sha256", sent=90)
        elif r < 0.9:
            get(t, caller, rng.choice(list(files)))
        else:  # a download manager: parallel ranges of one dataset part
            key = rng.choice([k for k in files if k.startswith("datasets/")])
            parts = rng.randrange(4, 9)
            for _ in range(parts):
                get(t, caller, key, 206, files[key] // parts)
    # Package managers check the index every few minutes from a handful of CI fleets.
    fleets = [anonymous(f"198.51.100.{200 + n}", "Go-http-client/2.0", trail=True) for n in range(6)]
    for t in _every(w, rng, 120):
        get(t, rng.choice(fleets), "releases/index.json", sent=2_048)
    # Mirrors sync every night: list, then every dataset part that changed (tens of GB).
    for n, ip in enumerate(("198.51.100.90", "198.51.100.91", "198.51.100.92")):
        mirror = anonymous(ip, "rclone/v1.68.2", trail=True)
        for d in range(w.days):
            t = w.day(d) + timedelta(hours=1 + n, seconds=rng.randrange(1800))
            for page in range(3):
                w.log(
                    t,
                    mirror,
                    "REST.GET.BUCKET",
                    None,
                    200,
                    uri=f"GET /?list-type=2&continuation-token=p{page} HTTP/1.1",
                    bytes_sent=300_000,
                )
            for key in rng.sample(sorted(files), 30):
                t += timedelta(seconds=rng.uniform(5, 40))
                get(t, mirror, key)
    # The release job publishes a build every day and prunes the oldest nightlies.
    for d in range(w.days):
        t = w.day(d) + timedelta(hours=11, seconds=rng.randrange(3600))
        release = role_caller(
            "release-publisher", "release", fakes.access_key_id(rng), t, fakes.CI_RUNNER_IP, fakes.AWS_CLI_SYNC
        )
        for arch in ("linux-amd64", "linux-arm64", "darwin", "windows"):
            key = f"nightly/{w.day(d):%Y%m%d}/tool-{arch}.tar.gz"
            t += timedelta(seconds=rng.uniform(20, 60))
            record = w.log(t, release, "REST.PUT.OBJECT", key, 200, object_size=90_000_000)
            w.event(t, release, "PutObject", key=key, record=record, bytes_in=90_000_000)
        for arch in ("linux-amd64", "linux-arm64", "darwin", "windows"):
            key = f"nightly/{w.day(d) - timedelta(days=30):%Y%m%d}/tool-{arch}.tar.gz"
            record = w.log(t, release, "REST.DELETE.OBJECT", key, 204)
            w.event(t, release, "DeleteObject", key=key, record=record)

    truths = []
    # 1. A grant to the attacker's account slipped into the public policy.
    t = w.incident_day(0.5) + timedelta(hours=20, minutes=3)
    thief = role_caller("release-publisher", "release", fakes.access_key_id(rng), t, "203.0.113.80", _ATTACKER_CLI)
    record, event = _policy_call(w, t, thief, _backdoor_policy(w.bucket, [_public_read(w.bucket)]))
    truths.append(w.truth("policy_backdoor", "Public bucket's policy grants another account everything", [record], [event],
                          source_ips=["203.0.113.80"], principals=[thief.requester or ""], expected=["bucket_made_public"],
                          notes="The public read stays; s3:* for the attacker's account is added."))  # fmt: skip
    # 2. Ransomware with the publisher's keys: versioning suspended, everything deleted in batches, a note left.
    t = w.incident_day(1.0) + timedelta(hours=4, minutes=40)
    thief = role_caller("release-publisher", "release", fakes.access_key_id(rng), t, "203.0.113.81", _BOTO)
    rows, events = [], []
    record = w.log(t, thief, "REST.PUT.VERSIONING", None, 200, uri="PUT /?versioning HTTP/1.1")
    rows.append(record)
    events.append(w.event(t, thief, "PutBucketVersioning", data=False, record=record,
                          request_parameters={"versioning": "", "VersioningConfiguration": {"Status": "Suspended", "xmlns": "http://s3.amazonaws.com/doc/2006-03-01/"}}))  # fmt: skip
    keys = sorted(files)
    for first in range(0, len(keys), 100):
        t += timedelta(seconds=rng.uniform(2, 6))
        post = w.log(
            t, thief, "REST.POST.MULTI_OBJECT_DELETE", None, 200, uri="POST /?delete HTTP/1.1", bytes_sent=9_000
        )
        rows.append(post)
        for key in keys[first : first + 100]:
            rows.append(
                w.log(t, thief, "BATCH.DELETE.OBJECT", key, 204, request_id=post["request_id"], host_id=post["host_id"])
            )
        events.append(w.event(t, thief, "DeleteObjects", record=post, request_parameters={"delete": ""},
                              bytes_in=delete_body_bytes(keys[first : first + 100]),
                              resources=[{"type": "AWS::S3::Object", "ARNPrefix": f"arn:aws:s3:::{w.bucket}/"},
                                         {"accountId": world.ACCOUNT_ID, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{w.bucket}"}]))  # fmt: skip
    t += timedelta(seconds=9)
    record = w.log(t, thief, "REST.PUT.OBJECT", "README-RESTORE-YOUR-FILES.txt", 200, object_size=1_200)
    rows.append(record)
    events.append(w.event(t, thief, "PutObject", key="README-RESTORE-YOUR-FILES.txt", record=record, bytes_in=1_200))
    truths.append(w.truth("ransomware", "Versioning suspended, every file deleted, a ransom note left", rows, events,
                          source_ips=["203.0.113.81"], principals=[thief.requester or ""],
                          expected=["recovery_weakened", "mass_delete", "ransom_note"],
                          notes=f"{len(keys)} objects deleted in DeleteObjects batches of 100."))  # fmt: skip
    return truths


# --- private data platform -----------------------------------------------------------------


def _data_platform(w: ShapeWorld) -> list[dict[str, Any]]:
    rng = w.rng("traffic")
    vpc = [f"10.20.{n // 250}.{n % 250 + 2}" for n in range(400)]  # private addresses behind the VPC endpoint
    curated = {f"curated/sales/part-{n:05d}.parquet": 40_000_000 + rng.randrange(120_000_000) for n in range(600)}
    raw_sizes: dict[str, int] = {}
    sessions: dict[tuple[str, int], Caller] = {}

    def session(role: str, hour: int, agent: str) -> Caller:
        """Each role's credentials last an hour; each hour a new key, a new worker address."""
        if (role, hour) not in sessions:
            created = w.start + timedelta(hours=hour)
            sessions[(role, hour)] = role_caller(
                role, f"{role}-{hour}", fakes.access_key_id(rng), created, rng.choice(vpc), agent
            )
        return sessions[(role, hour)]

    def put(t: datetime, caller: Caller, key: str, size: int) -> None:
        record = w.log(t, caller, "REST.PUT.OBJECT", key, 200, object_size=size)
        w.event(t, caller, "PutObject", key=key, record=record, bytes_in=size)

    def get(t: datetime, caller: Caller, key: str, size: int) -> None:
        record = w.log(t, caller, "REST.GET.OBJECT", key, 200, bytes_sent=size, object_size=size)
        w.event(t, caller, "GetObject", key=key, read_only=True, record=record, bytes_out=size)

    for h in range(w.days * 24):
        hour = w.start + timedelta(hours=h)
        ingest = session("etl-ingest", h, _BOTO)
        for n in range(60):  # hourly ingest of small raw files
            key = f"raw/events/dt={hour:%Y-%m-%d}/hour={hour:%H}/part-{n:04d}.json.gz"
            raw_sizes[key] = 200_000 + rng.randrange(2_000_000)
            put(hour + timedelta(seconds=rng.uniform(60, 600)), ingest, key, raw_sizes[key])
        analyst = session("analytics-athena", h, "AWS_ATHENA_SDK")
        for _ in range(rng.randrange(5, 40) if 8 <= hour.hour <= 20 else 2):
            key = rng.choice(list(curated))
            get(hour + timedelta(seconds=rng.random() * 3600), analyst, key, curated[key] // 20)
        partner = foreign_role_caller(
            PARTNER_ACCOUNT, "partner-reader", f"sync-{h}", fakes.access_key_id(rng), hour, "198.51.100.150", _BOTO
        )
        if hour.hour == 5:
            for key in rng.sample(sorted(curated), 15):
                get(hour + timedelta(seconds=rng.random() * 600), partner, key, curated[key])
    # Nightly: the Spark job reads the day's raw files, writes curated, compaction deletes the raw files.
    for d in range(w.days):
        t = w.day(d) + timedelta(hours=1)
        spark = session("emr-batch", d * 24 + 1, _SPARK)
        day_keys = [k for k in raw_sizes if f"dt={w.day(d) - timedelta(days=1):%Y-%m-%d}" in k] or sorted(raw_sizes)[
            :1440
        ]
        for key in day_keys:
            t += timedelta(seconds=0.4)
            get(t, spark, key, raw_sizes[key])
        for n in range(40):
            t += timedelta(seconds=2)
            put(t, spark, f"curated/sales/part-{n:05d}.parquet", curated[f"curated/sales/part-{n:05d}.parquet"])
        compaction = session("emr-batch", d * 24 + 2, _SPARK)
        for first in range(0, len(day_keys), 1000):
            t += timedelta(seconds=3)
            post = w.log(
                t,
                compaction,
                "REST.POST.MULTI_OBJECT_DELETE",
                None,
                200,
                uri="POST /?delete HTTP/1.1",
                bytes_sent=40_000,
            )
            for key in day_keys[first : first + 1000]:
                w.log(
                    t,
                    compaction,
                    "BATCH.DELETE.OBJECT",
                    key,
                    204,
                    request_id=post["request_id"],
                    host_id=post["host_id"],
                )
            w.event(t, compaction, "DeleteObjects", record=post, request_parameters={"delete": ""},
                    bytes_in=delete_body_bytes(day_keys[first : first + 1000]))  # fmt: skip
        # Lifecycle expires tmp/ files after a day (requester AmazonS3, no address).
        lifecycle = Caller("-", "-", "AmazonS3", {}, None, None, None, None)
        t = w.day(d) + timedelta(hours=3)
        for n in range(2_000):
            w.log(
                t + timedelta(seconds=n * 0.2),
                lifecycle,
                "S3.EXPIRE.OBJECT",
                f"tmp/query-results/{rng.getrandbits(64):016x}.csv",
                200,
            )
        # Replication copies curated/ to the backup region as the replication role.
        repl = session("s3-replication", d * 24 + 4, "aws-internal/3")
        for key in rng.sample(sorted(curated), 40):
            t += timedelta(seconds=1)
            w.log(t, repl, "REST.COPY.OBJECT_GET", key, 200, bytes_sent=curated[key], object_size=curated[key])

    truths = []
    # 1. The ingest role's session credentials, stolen, download curated data from the internet.
    t = w.incident_day(0.5) + timedelta(hours=22, minutes=18)
    thief = role_caller(
        "etl-ingest",
        f"etl-ingest-{(t - w.start) // timedelta(hours=1)}",
        fakes.access_key_id(rng),
        t,
        "203.0.113.88",
        _ATTACKER_CLI,
    )
    rows = [
        w.log(
            t,
            thief,
            "REST.GET.BUCKET",
            None,
            200,
            uri="GET /?list-type=2&prefix=curated%2F HTTP/1.1",
            bytes_sent=200_000,
        )
    ]
    events = []
    for key in sorted(curated)[:120]:
        t += timedelta(seconds=rng.uniform(1, 5))
        record = w.log(t, thief, "REST.GET.OBJECT", key, 200, bytes_sent=curated[key], object_size=curated[key])
        rows.append(record)
        events.append(w.event(t, thief, "GetObject", key=key, read_only=True, record=record, bytes_out=curated[key]))
    truths.append(w.truth("role_exfiltration", "Ingest role credentials used from the internet to download curated data", rows, events,
                          source_ips=["203.0.113.88"], principals=[thief.requester or "", "arn:aws:iam::111122223333:role/etl-ingest"],
                          expected=["large_egress", "new_principal_or_ip_reading"], notes="120 curated files from a public address."))  # fmt: skip
    # 2. An analyst's keys copy curated data into a bucket of the attacker's account.
    t = w.incident_day(1.0) + timedelta(hours=14, minutes=2)
    analyst = Caller(
        "203.0.113.90",
        _ATTACKER_CLI,
        world.user_arn("analyst-jo"),
        user_identity("analyst-jo", fakes.access_key_id(rng, "AKIA")),
    )
    rows, events = [], []
    for key in sorted(curated)[200:230]:
        t += timedelta(seconds=2)
        record = w.log(t, analyst, "REST.COPY.OBJECT_GET", key, 200, bytes_sent=curated[key], object_size=curated[key])
        rows.append(record)
        events.append(w.sink.s3_event(
            t, analyst, "CopyObject", "exfil-drop-bucket", key=key, data=True, read_only=False,
            request_id=record["request_id"], host_id=record["host_id"],
            request_parameters={"x-amz-copy-source": f"{w.bucket}/{key}"},
            resources=[
                {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{w.bucket}/{key}"},
                {"accountId": world.ACCOUNT_ID, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{w.bucket}"},
                {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::exfil-drop-bucket/{key}"},
                {"accountId": ATTACKER_ACCOUNT, "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::exfil-drop-bucket"},
            ],
        ))  # fmt: skip
    truths.append(w.truth("cross_account_copy", "Curated data copied into another account's bucket", rows, events,
                          source_ips=["203.0.113.90"], principals=[analyst.requester or ""], expected=["cross_account_copy"],
                          notes=f"30 CopyObject calls into a bucket owned by {ATTACKER_ACCOUNT}."))  # fmt: skip
    truths[-1]["other_buckets"] = ["exfil-drop-bucket"]  # CloudTrail names the destination as bucketName
    return truths


# --- CloudFront origin -------------------------------------------------------------------


def _cloudfront(w: ShapeWorld) -> list[dict[str, Any]]:
    rng = w.rng("traffic")
    edges = [f"198.51.100.{n}" for n in range(160, 200)]
    objects = {f"site/p/{n:03d}.html": 6_000 + rng.randrange(30_000) for n in range(200)}
    objects |= {f"video/{n:03d}.mp4": 50_000_000 + rng.randrange(500_000_000) for n in range(40)}
    keys = sorted(objects)
    for t in _hourly(w, rng, 9_000):  # cache misses reaching the origin
        caller = cloudfront_caller(rng.choice(edges))
        key = rng.choice(keys)
        r = rng.random()
        if r < 0.15:
            w.log(t, caller, "REST.GET.OBJECT", key, 304, object_size=objects[key])
        elif r < 0.18:
            w.log(t, caller, "REST.GET.OBJECT", "site/p/missing.html", 404, error_code="NoSuchKey", bytes_sent=300)
        else:
            w.log(t, caller, "REST.GET.OBJECT", key, 200, bytes_sent=objects[key], object_size=objects[key])
    for d in range(w.days):
        t = w.day(d) + timedelta(hours=15, seconds=rng.randrange(3600))
        deploy = role_caller(
            "origin-deploy", "deploy", fakes.access_key_id(rng), t, fakes.CI_RUNNER_IP, fakes.AWS_CLI_SYNC
        )
        for n in range(rng.randrange(10, 60)):
            t += timedelta(seconds=0.3)
            key = f"site/p/{n:03d}.html"
            record = w.log(t, deploy, "REST.PUT.OBJECT", key, 200, object_size=objects[key])
            w.event(t, deploy, "PutObject", key=key, record=record, bytes_in=objects[key])
        w.sink.api_event(t, deploy, "cloudfront.amazonaws.com", "CreateInvalidation", read_only=False,
                         request_parameters={"distributionId": "E2EXAMPLE1ABCD", "invalidationBatch": {"paths": {"quantity": 1, "items": ["/*"]}}},
                         response_elements=None)  # fmt: skip

    truths = []
    # 1. Someone who found the origin's name goes around CloudFront: every request denied.
    t = w.incident_day(0.5) + timedelta(hours=9, minutes=30)
    direct = anonymous("192.0.2.210", "python-requests/2.32.3")
    rows = []
    for key in keys[:80]:
        t += timedelta(seconds=rng.uniform(0.2, 1.5))
        rows.append(
            w.log(
                t,
                direct,
                "REST.GET.OBJECT",
                key,
                403,
                error_code="AccessDenied",
                bytes_sent=ERROR_BODY_BYTES["AccessDenied"],
            )
        )
    truths.append(w.truth("origin_bypass", "Direct requests to the origin, around CloudFront, all denied", rows, [],
                          source_ips=["192.0.2.210"], principals=[], expected=["access_denied_burst"],
                          notes="80 anonymous REST GETs straight at the bucket."))  # fmt: skip
    # 2. The deploy role, stolen, opens the origin to everyone.
    t = w.incident_day(1.0) + timedelta(hours=23, minutes=5)
    thief = role_caller("origin-deploy", "deploy", fakes.access_key_id(rng), t, "203.0.113.85", _ATTACKER_CLI)
    record, event = _policy_call(w, t, thief, {"Version": "2012-10-17", "Statement": [_public_read(w.bucket)]})
    truths.append(w.truth("origin_made_public", "CloudFront origin opened to everyone", [record], [event], source_ips=["203.0.113.85"],
                          principals=[thief.requester or ""], expected=["bucket_made_public"],
                          notes="PutBucketPolicy with Principal \"*\" replaces the OAC-only policy."))  # fmt: skip
    return truths


# --- a busy bucket ------------------------------------------------------------------------

#: Requests a day on the busy bucket.
BUSY_REQUESTS_PER_DAY = 1_000_000


def _busy(w: ShapeWorld) -> list[dict[str, Any]]:
    """An app's user-content bucket at a million requests a day: CloudFront serving images,
    app servers in the VPC uploading, resizing and checking, every upload in CloudTrail."""
    rng = w.rng("traffic")
    edges = [f"198.51.100.{n}" for n in range(160, 200)]
    workers = [f"10.30.{n // 200}.{n % 200 + 10}" for n in range(24)]
    images = [f"u/{n:06d}/{rng.getrandbits(32):08x}.jpg" for n in range(20_000)]
    sizes = {k: 30_000 + rng.randrange(900_000) for k in images}
    log = w.log
    edge_callers = [cloudfront_caller(ip) for ip in edges]
    app: dict[int, list[Caller]] = {}

    def app_caller(t: datetime) -> Caller:
        hour = int((t - w.start).total_seconds() // 3600)
        if hour not in app:
            created = w.start + timedelta(hours=hour)
            app[hour] = [role_caller("app-server", f"i-{n:017x}", fakes.access_key_id(rng), created, ip, _BOTO) for n, ip in enumerate(workers)]
        return rng.choice(app[hour])

    share = BUSY_REQUESTS_PER_DAY / 1_000_000
    for t in _hourly(w, rng, 620_000 * share):  # CloudFront cache misses
        key = images[int(len(images) * rng.random() ** 2)]
        if rng.random() < 0.2:
            log(t, rng.choice(edge_callers), "REST.GET.OBJECT", key, 304, object_size=sizes[key])
        else:
            log(t, rng.choice(edge_callers), "REST.GET.OBJECT", key, 200, bytes_sent=sizes[key], object_size=sizes[key])
    for t in _hourly(w, rng, 300_000 * share):  # the app reads originals to resize them, and checks them
        key = rng.choice(images)
        if rng.random() < 0.3:
            log(t, app_caller(t), "REST.HEAD.OBJECT", key, 200, object_size=sizes[key])
        else:
            log(t, app_caller(t), "REST.GET.OBJECT", key, 200, bytes_sent=sizes[key], object_size=sizes[key])
    for t in _hourly(w, rng, 80_000 * share):  # uploads, recorded in CloudTrail
        caller = app_caller(t)
        key = f"u/{rng.randrange(20_000, 99_999):06d}/{rng.getrandbits(32):08x}.jpg"
        size = 30_000 + rng.randrange(900_000)
        record = log(t, caller, "REST.PUT.OBJECT", key, 200, object_size=size)
        w.event(t, caller, "PutObject", key=key, record=record, bytes_in=size)

    truths = []
    # 1. The app role's credentials, taken from a worker, download originals from the internet.
    t = w.incident_day(1.0) + timedelta(hours=4, minutes=12)
    hour = int((t - w.start).total_seconds() // 3600)
    thief = role_caller("app-server", f"i-{3:017x}", fakes.access_key_id(rng), w.start + timedelta(hours=hour), "203.0.113.95", _ATTACKER_CLI)
    rows = [log(t, thief, "REST.GET.BUCKET", None, 200, uri="GET /?list-type=2&prefix=u%2F HTTP/1.1", bytes_sent=300_000)]
    for key in images[:1500]:
        t += timedelta(seconds=rng.uniform(0.05, 0.3))
        rows.append(log(t, thief, "REST.GET.OBJECT", key, 200, bytes_sent=sizes[key], object_size=sizes[key]))
    truths.append(w.truth("role_exfiltration", "App role credentials used from the internet to download user images", rows, [],
                          source_ips=["203.0.113.95"], principals=[thief.requester or "", world.role_arn("app-server")],
                          expected=["large_egress", "new_principal_or_ip_reading"], notes="1,500 originals in a few minutes from a public address."))  # fmt: skip
    # 2. Someone guessing object names straight at the bucket, around CloudFront.
    t = w.incident_day(1.0) + timedelta(hours=17, minutes=40)
    guesser = anonymous("192.0.2.220", "Go-http-client/1.1")
    rows = []
    for n in range(400):
        t += timedelta(seconds=rng.uniform(0.1, 0.6))
        rows.append(log(t, guesser, "REST.GET.OBJECT", f"u/{n:06d}/", 403, error_code="AccessDenied", bytes_sent=ERROR_BODY_BYTES["AccessDenied"]))
    truths.append(w.truth("direct_enumeration", "Anonymous guessing of object names straight at the bucket", rows, [],
                          source_ips=["192.0.2.220"], principals=[], expected=["access_denied_burst"],
                          notes="400 anonymous GETs of guessed prefixes, all denied."))  # fmt: skip
    return truths


SHAPES: dict[str, Shape] = {
    s.id: s
    for s in (
        Shape("website", "Public static site on the website endpoint", "s3f-shape-www", _website),
        Shape(
            "downloads", "Public downloads over REST, reads recorded in CloudTrail", "s3f-shape-downloads", _downloads
        ),
        Shape(
            "data_platform", "Private data lake: many roles, batch jobs, replication", "s3f-shape-lake", _data_platform
        ),
        Shape("cloudfront", "Origin bucket reached only through CloudFront", "s3f-shape-origin", _cloudfront),
        Shape("busy", "A million requests a day: CloudFront, app servers, uploads in CloudTrail", "s3f-shape-assets", _busy, days=2),
    )
}


def generate_shape(
    shape_id: str,
    out_dir: str | Path,
    days: int | None = DEFAULT_DAYS,
    seed: int = 7,
    start: str | date | datetime | None = None,
) -> dict[str, Any]:
    """Write one shape's world (logs and ``ground_truth.json``) under ``out_dir``.

    ``days=None`` takes the shape's own length (:attr:`Shape.days`).

    Raises:
        ConfigError: an unknown shape, or ``days``/``seed`` out of range.
    """
    if shape_id not in SHAPES:
        raise ConfigError(f"unknown world shape {shape_id!r}; choose one of {', '.join(SHAPES)}")
    if days is None:
        days = SHAPES[shape_id].days
    if isinstance(days, bool) or not isinstance(days, int) or not 2 <= days <= MAX_DAYS:
        raise ConfigError(f"days must be an integer from 2 to {MAX_DAYS} (the first day is history), got {days!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ConfigError(f"seed must be an integer, got {seed!r}")
    shape = SHAPES[shape_id]
    w = ShapeWorld(seed, parse_start(start).replace(microsecond=0), days, shape.bucket)
    truths = shape.build(w)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for bucket in (world.LOG_BUCKET, world.TRAIL_BUCKET):
        shutil.rmtree(out / bucket, ignore_errors=True)
    access = write_access_logs(w.ctx, out, {shape.bucket: f"s3-access/{shape_id}/"})
    trail = write_trail(w.ctx, out)
    truth = {
        "shape": shape_id,
        "seed": seed,
        "start": fakes.iso(w.start),
        "end": fakes.iso(w.end),
        "account_id": world.ACCOUNT_ID,
        "scenarios": truths,
    }
    (out / "ground_truth.json").write_text(json.dumps(truth, indent=2) + "\n", encoding="utf-8")
    return {
        "shape": shape_id,
        "out_dir": str(out),
        "access_log_lines": access[shape.bucket][1],
        **trail,
        "scenarios": [s["id"] for s in truths],
    }
