"""Benign traffic of the demo account: visitors, crawlers, monitors, deploys, analytics, admin.

Visitors follow a daily rhythm (an audience around UTC-5, quieter at weekends) and browse
the site through its website endpoint or its REST endpoint: a page, then its styles,
scripts, fonts and images, the favicon the site does not have, 304s for returning
browsers. The named principals do what they do every day, so the incidents stand out.
"""

from __future__ import annotations

import base64
import random
from datetime import datetime, timedelta
from itertools import accumulate
from typing import Any

from s3forensics.lab.demo import fakes, world
from s3forensics.lab.demo.context import DEPLOY_SESSION, MISSING_KEYS, SITE_ASSETS, DemoContext
from s3forensics.lab.demo.records import (
    ERROR_BODY_BYTES,
    Caller,
    assumed_role_arn,
    rest_host,
    service_identity,
    user_identity,
    website_host,
)

#: Average visitor sessions per hour at the busiest hour (tuned for ~15-25k lines a day).
PEAK_SESSIONS_PER_HOUR = 150
WEEKEND_FACTOR = 0.8

_ENTRY_PAGES = (
    ("index.html", 45),
    ("blog/index.html", 6),
    ("about.html", 6),
    ("pricing.html", 9),
    ("contact.html", 3),
    *((f"blog/post-{n:02d}.html", 31 / 14) for n in range(1, 15)),
)
_REFERERS = (
    (None, 35),
    ("https://www.google.com/", 38),
    ("https://www.bing.com/", 5),
    ("https://duckduckgo.com/", 5),
    ("https://t.co/", 4),
    ("https://www.reddit.com/", 4),
    ("https://www.linkedin.com/", 4),
    ("https://news.ycombinator.com/", 2),
)


def _weighted(pairs: tuple[tuple[Any, float], ...]) -> tuple[list[Any], list[float]]:
    values = [v for v, _ in pairs]
    return values, list(accumulate(w for _, w in pairs))


def _page_path(key: str, rng: random.Random) -> str:
    """The path a browser asks for: ``/`` and ``/blog/`` for index documents, sometimes."""
    if key == "index.html" and rng.random() < 0.6:
        return "/"
    if key == "blog/index.html" and rng.random() < 0.7:
        return "/blog/"
    return "/" + key


def _timing(rng: random.Random, size: int, throughput: int) -> tuple[int, int]:
    turn = rng.randrange(3, 35)
    return turn + size // throughput + rng.randrange(0, 4), turn


class _Visitors:
    """Browser sessions on the public site."""

    def __init__(self, ctx: DemoContext) -> None:
        self.ctx = ctx
        self.rng = ctx.rng("visitors")
        self.pool = fakes.visitor_pool(self.rng)
        self.agents, self.agent_weights = _weighted(fakes.BROWSER_AGENTS)
        self.pages, self.page_weights = _weighted(_ENTRY_PAGES)
        self.referers, self.referer_weights = _weighted(_REFERERS)
        tls = tuple(((v, c), w) for v, c, w in fakes.TLS_PROFILES)
        self.tls, self.tls_weights = _weighted(tls)
        self.site = world.SITE_BUCKET
        self.sizes = ctx.site_sizes

    def run(self) -> None:
        weights = fakes.hour_weights_utc()
        for day in range(self.ctx.days):
            day_start = self.ctx.start + timedelta(days=day)
            factor = WEEKEND_FACTOR if day_start.weekday() >= 5 else 1.0
            for hour in range(24):
                mean = PEAK_SESSIONS_PER_HOUR / 1.15 * weights[hour] * factor
                count = max(0, round(self.rng.gauss(mean, mean**0.5)))
                hour_start = day_start + timedelta(hours=hour)
                for _ in range(count):
                    self.session(hour_start + timedelta(seconds=self.rng.random() * 3600))

    def session(self, t: datetime) -> None:
        rng = self.rng
        # A skewed pick: some addresses come back often (offices, households behind NAT).
        ip = self.pool[int(len(self.pool) * rng.random() ** 1.6)]
        agent = rng.choices(self.agents, cum_weights=self.agent_weights)[0]
        website = rng.random() < 0.62
        tls_version, cipher = rng.choices(self.tls, cum_weights=self.tls_weights)[0]
        caller = Caller(
            ip=ip,
            user_agent=agent,
            requester=None,
            identity={},
            tls_version=tls_version,
            cipher_suite=cipher,
            signature_version=None,
            authentication_type=None,
        )
        returning = rng.random() < 0.3
        throughput = rng.choice((400, 1_200, 3_000, 8_000))
        host = website_host(self.site) if website else rest_host(self.site)
        base = f"http://{host}" if website else f"https://{host}"
        page = rng.choices(self.pages, cum_weights=self.page_weights)[0]
        referer = rng.choices(self.referers, cum_weights=self.referer_weights)[0]
        pages = 1
        while pages < 6 and rng.random() < 0.42:
            pages += 1
        end = self.ctx.end
        for n in range(pages):
            if t >= end:
                return
            path = _page_path(page, rng) if website else "/" + page
            self.get(t, caller, page, path, website, referer, returning and rng.random() < 0.5, throughput)
            page_url = base + path
            assets = list(self.ctx.page_images[page])
            if n == 0:
                assets = list(SITE_ASSETS) + assets
            for key in assets:
                ta = t + timedelta(seconds=rng.uniform(0.05, 1.8))
                if ta < end:
                    self.get(ta, caller, key, "/" + key, website, page_url, returning, throughput)
            if n == 0 and rng.random() < 0.7:
                missing = MISSING_KEYS[0] if rng.random() < 0.8 else rng.choice(MISSING_KEYS[1:])
                ta = t + timedelta(seconds=rng.uniform(0.3, 2.5))
                if ta < end:
                    self.missing(ta, caller, missing, website, page_url)
            referer = page_url
            page = rng.choices(self.pages, cum_weights=self.page_weights)[0]
            t += timedelta(seconds=3 + rng.expovariate(1 / 40))

    def get(
        self,
        t: datetime,
        caller: Caller,
        key: str,
        path: str,
        website: bool,
        referer: str | None,
        cached: bool,
        throughput: int,
    ) -> None:
        size = self.sizes[key]
        rng = self.rng
        op = "WEBSITE.GET.OBJECT" if website else "REST.GET.OBJECT"
        if cached:
            turn = rng.randrange(2, 12)
            self.ctx.sink.s3(
                self.site, t, caller, op, key, f"GET {path} HTTP/1.1", 304,
                bytes_sent=None, object_size=size, total_time=turn + rng.randrange(0, 2),
                turn_around_time=turn, referer=referer, website=website,
            )  # fmt: skip
            return
        total, turn = _timing(rng, size, throughput)
        self.ctx.sink.s3(
            self.site, t, caller, op, key, f"GET {path} HTTP/1.1", 200,
            bytes_sent=size, object_size=size, total_time=total, turn_around_time=turn,
            referer=referer, website=website,
        )  # fmt: skip

    def missing(self, t: datetime, caller: Caller, key: str, website: bool, referer: str) -> None:
        op = "WEBSITE.GET.OBJECT" if website else "REST.GET.OBJECT"
        # The website endpoint answers with the error document; REST with an XML error.
        sent = self.sizes["404.html"] if website else ERROR_BODY_BYTES["NoSuchKey"] + len(key)
        turn = self.rng.randrange(4, 20)
        self.ctx.sink.s3(
            self.site, t, caller, op, key, f"GET /{key} HTTP/1.1", 404, error_code="NoSuchKey",
            bytes_sent=sent, total_time=turn + 1, turn_around_time=turn, referer=referer, website=website,
        )  # fmt: skip


def _crawlers(ctx: DemoContext) -> None:
    """Search engine crawlers (website endpoint), link previews and an uptime monitor (REST)."""
    rng = ctx.rng("crawlers")
    site = world.SITE_BUCKET
    pages = [k for k in ctx.site_sizes if k.endswith(".html") and k != "404.html"]
    images = [k for k in ctx.site_sizes if k.startswith("img/")]
    per_day = {"googlebot": 260, "bingbot": 110, "yandexbot": 35}
    for name, count in per_day.items():
        agent = fakes.CRAWLER_AGENTS[name]
        ips = fakes.CRAWLER_IPS[name]
        for day in range(ctx.days):
            day_start = ctx.start + timedelta(days=day)
            for _ in range(count + rng.randrange(-count // 5, count // 5)):
                t = day_start + timedelta(seconds=rng.random() * 86_400)
                caller = Caller(rng.choice(ips), agent, None, {}, None, None, None, None)
                r = rng.random()
                if r < 0.08:
                    key = rng.choice(("robots.txt", "sitemap.xml"))
                elif r < 0.25:
                    key = rng.choice(images)
                elif r < 0.29:
                    # Links to pages that were removed long ago.
                    key = rng.choice(("blog/post-00.html", "old/index.html", "blog/feed.xml"))
                    ctx.sink.s3(
                        site, t, caller, "WEBSITE.GET.OBJECT", key, f"GET /{key} HTTP/1.1", 404,
                        error_code="NoSuchKey", bytes_sent=ctx.site_sizes["404.html"],
                        total_time=rng.randrange(5, 25), turn_around_time=rng.randrange(3, 5), website=True,
                    )  # fmt: skip
                    continue
                else:
                    key = rng.choice(pages)
                size = ctx.site_sizes[key]
                if rng.random() < 0.12:
                    ctx.sink.s3(
                        site, t, caller, "WEBSITE.GET.OBJECT", key, f"GET /{key} HTTP/1.1", 304,
                        object_size=size, total_time=rng.randrange(3, 9), turn_around_time=2, website=True,
                    )  # fmt: skip
                    continue
                total, turn = _timing(rng, size, 6_000)
                ctx.sink.s3(
                    site, t, caller, "WEBSITE.GET.OBJECT", key, f"GET /{key} HTTP/1.1", 200,
                    bytes_sent=size, object_size=size, total_time=total, turn_around_time=turn, website=True,
                )  # fmt: skip

    # Link previews: a HEAD then a GET of a shared page, through the REST endpoint.
    posts = [k for k in pages if k.startswith("blog/post-")]
    preview_ips = fakes.visitor_pool(ctx.rng("previews"))[:40]
    for day in range(ctx.days):
        day_start = ctx.start + timedelta(days=day)
        for _ in range(rng.randrange(15, 40)):
            t = day_start + timedelta(seconds=rng.random() * 86_000)
            agent = rng.choice(fakes.LINK_PREVIEW_AGENTS)
            tls_version, cipher, _ = rng.choice(fakes.TLS_PROFILES)
            caller = Caller(rng.choice(preview_ips), agent, None, {}, tls_version, cipher, None, None)
            key = rng.choice(posts)
            size = ctx.site_sizes[key]
            ctx.sink.s3(
                site, t, caller, "REST.HEAD.OBJECT", key, f"HEAD /{key} HTTP/1.1", 200,
                object_size=size, total_time=rng.randrange(4, 15), turn_around_time=rng.randrange(2, 4),
            )  # fmt: skip
            total, turn = _timing(rng, size, 8_000)
            ctx.sink.s3(
                site, t + timedelta(seconds=rng.uniform(0.1, 1.0)), caller, "REST.GET.OBJECT", key,
                f"GET /{key} HTTP/1.1", 200, bytes_sent=size, object_size=size, total_time=total, turn_around_time=turn,
            )  # fmt: skip

    # An uptime monitor: HEAD /index.html every five minutes.
    monitor = Caller(fakes.UPTIME_MONITOR_IP, fakes.UPTIME_AGENT, None, {}, "TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256", None, None)
    t = ctx.start + timedelta(seconds=rng.randrange(300))
    size = ctx.site_sizes["index.html"]
    while t < ctx.end:
        ctx.sink.s3(
            site, t, monitor, "REST.HEAD.OBJECT", "index.html", "HEAD /index.html HTTP/1.1", 200,
            object_size=size, total_time=rng.randrange(5, 30), turn_around_time=rng.randrange(3, 6),
        )  # fmt: skip
        t += timedelta(seconds=300 + rng.uniform(-2, 2))


def _session_token(rng: random.Random) -> str:
    return base64.b64encode(rng.randbytes(330)).decode("ascii")


def _expiration(t: datetime) -> str:
    """STS's human-readable expiration, e.g. ``Nov 16, 2026, 4:05:06 PM``."""
    hour = t.hour % 12 or 12
    return f"{t:%b} {t.day}, {t.year}, {hour}:{t:%M:%S} {'AM' if t.hour < 12 else 'PM'}"


def assume_role_event(
    ctx: DemoContext, t: datetime, caller: Caller, role: str, session: str, access_key: str, duration: int = 3600
) -> None:
    """CloudTrail ``AssumeRole`` for ``role`` returning ``access_key``."""
    rng = ctx.sink.rng
    role_id = fakes.stable_principal_id("AROA", role)
    ctx.sink.api_event(
        t,
        caller,
        "sts.amazonaws.com",
        "AssumeRole",
        read_only=True,
        request_parameters={"roleArn": world.role_arn(role), "roleSessionName": session, "durationSeconds": duration},
        response_elements={
            "credentials": {
                "accessKeyId": access_key,
                "sessionToken": _session_token(rng),
                "expiration": _expiration(t + timedelta(seconds=duration)),
            },
            "assumedRoleUser": {"assumedRoleId": f"{role_id}:{session}", "arn": assumed_role_arn(role, session)},
        },
        resources=[{"accountId": world.ACCOUNT_ID, "type": "AWS::IAM::Role", "ARN": world.role_arn(role)}],
        tls_host="sts.us-east-1.amazonaws.com" if caller.tls_version else None,
    )


def _deploys(ctx: DemoContext) -> None:
    """Once a day CI assumes site-deploy, lists the site and uploads what changed."""
    rng = ctx.rng("deploys")
    site = world.SITE_BUCKET
    ci = Caller(
        fakes.CI_RUNNER_IP,
        fakes.AWS_CLI_STS,
        world.user_arn(world.CI_USER),
        user_identity(world.CI_USER, ctx.ci_key),
    )
    changeable = [k for k in ctx.site_sizes if k.endswith((".html", ".css", ".js", ".xml"))]
    for day in range(ctx.days):
        t = ctx.start + timedelta(days=day, hours=15, seconds=rng.randrange(0, 7200))
        session_key = fakes.access_key_id(rng, "ASIA")
        assume_role_event(ctx, t, ci, world.DEPLOY_ROLE, DEPLOY_SESSION, session_key)
        deploy = ctx.deploy_caller(session_key, t)
        t += timedelta(seconds=rng.uniform(2, 6))
        ctx.sink.s3(
            site, t, deploy, "REST.GET.BUCKET", None, "GET /?list-type=2&prefix=&encoding-type=url HTTP/1.1", 200,
            bytes_sent=9_000 + rng.randrange(2_000), total_time=rng.randrange(30, 90), turn_around_time=rng.randrange(20, 60),
        )  # fmt: skip
        keys = ["index.html", "sitemap.xml", *rng.sample(changeable, rng.randrange(1, 5))]
        for key in dict.fromkeys(keys):
            t += timedelta(seconds=rng.uniform(0.2, 1.5))
            put_object(ctx, t, deploy, site, key, ctx.site_sizes[key], content_type="text/html")


def put_object(ctx: DemoContext, t: datetime, caller: Caller, bucket: str, key: str, size: int, content_type: str) -> None:
    """An authenticated PutObject: the access log line and the CloudTrail data event."""
    rng = ctx.sink.rng
    record = ctx.sink.s3(
        bucket, t, caller, "REST.PUT.OBJECT", key, f"PUT /{key} HTTP/1.1", 200,
        object_size=size, total_time=40 + size // 2_000 + rng.randrange(30), turn_around_time=rng.randrange(10, 40),
    )  # fmt: skip
    ctx.sink.s3_event(
        t, caller, "PutObject", bucket, key=key, data=True, read_only=False,
        request_id=record["request_id"], host_id=record["host_id"], bytes_in=size,
        request_parameters={"Content-Type": content_type} if content_type else None,
        response_elements={"x-amz-server-side-encryption": "AES256"},
    )  # fmt: skip


def get_object(ctx: DemoContext, t: datetime, caller: Caller, bucket: str, key: str, throughput: int = 20_000) -> dict[str, Any]:
    """An authenticated HEAD then GET of ``key`` (what SDK downloads do); returns the GET row."""
    rng = ctx.sink.rng
    size = ctx.data_sizes.get(key) or ctx.archive_sizes.get(key) or ctx.site_sizes[key]
    ctx.sink.s3(
        bucket, t, caller, "REST.HEAD.OBJECT", key, f"HEAD /{key} HTTP/1.1", 200,
        object_size=size, total_time=rng.randrange(6, 20), turn_around_time=rng.randrange(4, 8),
    )  # fmt: skip
    turn = rng.randrange(10, 40)
    return ctx.sink.s3(
        bucket, t + timedelta(seconds=rng.uniform(0.05, 0.4)), caller, "REST.GET.OBJECT", key,
        f"GET /{key} HTTP/1.1", 200, bytes_sent=size, object_size=size,
        total_time=turn + size // throughput, turn_around_time=turn,
    )  # fmt: skip


def list_prefix(ctx: DemoContext, t: datetime, caller: Caller, bucket: str, prefix: str, entries: int) -> dict[str, Any]:
    """A ListObjectsV2 call (REST.GET.BUCKET) on ``prefix``."""
    rng = ctx.sink.rng
    encoded = prefix.replace("/", "%2F")
    return ctx.sink.s3(
        bucket, t, caller, "REST.GET.BUCKET", None, f"GET /?list-type=2&prefix={encoded}&encoding-type=url HTTP/1.1", 200,
        bytes_sent=600 + 310 * min(entries, 1000), total_time=rng.randrange(25, 120), turn_around_time=rng.randrange(20, 60),
    )  # fmt: skip


def _analytics(ctx: DemoContext) -> None:
    """The analytics host: a daily export written, a few reads of recent exports a day."""
    rng = ctx.rng("analytics")
    data = world.DATA_BUCKET
    for day in range(ctx.days):
        day_start = ctx.start + timedelta(days=day)
        # EC2 delivers fresh instance-role credentials (AssumeRole by the EC2 service).
        t = day_start - timedelta(minutes=17) + timedelta(seconds=rng.randrange(60))
        if t >= ctx.start:
            ec2 = Caller("ec2.amazonaws.com", "ec2.amazonaws.com", None, service_identity("ec2.amazonaws.com"), None, None, None, None)
            assume_role_event(ctx, t, ec2, world.ANALYTICS_ROLE, "i-0a1b2c3d4e5f60718", ctx.analytics_keys[day], 21_600)
        caller = ctx.analytics_caller(day)
        # The nightly export of yesterday's orders.
        t = day_start + timedelta(hours=6, minutes=10, seconds=rng.randrange(600))
        key = f"exports/orders-{day_start - timedelta(days=1):%Y-%m-%d}.csv"
        size = ctx.data_sizes.setdefault(key, 4_000_000 + rng.randrange(6_000_000))
        ctx.data_created.setdefault(key, t)
        put_object(ctx, t, caller, data, key, size, content_type="text/csv")
        # Reads by the reporting job, a few times a day.
        for hour in (7, 12, 17, 22):
            t = day_start + timedelta(hours=hour, seconds=rng.randrange(-1200, 1200))
            recent = sorted(k for k, c in ctx.data_created.items() if k.startswith("exports/orders-") and c <= t)
            list_prefix(ctx, t, caller, data, "exports/", len([k for k in ctx.data_created if k.startswith("exports/")]))
            for key in recent[-rng.randrange(1, 3) :]:
                t += timedelta(seconds=rng.uniform(0.5, 3))
                get_object(ctx, t, caller, data, key)


def _admin(ctx: DemoContext) -> None:
    """ops-admin signs in on weekdays and looks at bucket settings in the console."""
    rng = ctx.rng("admin")
    buckets = (world.SITE_BUCKET, world.DATA_BUCKET, world.ARCHIVE_BUCKET)
    reads = (
        ("GetBucketPolicy", "REST.GET.BUCKETPOLICY", "policy"),
        ("GetBucketAcl", "REST.GET.ACL", "acl"),
        ("GetBucketVersioning", "REST.GET.VERSIONING", "versioning"),
        ("GetBucketLogging", "REST.GET.LOGGING_STATUS", "logging"),
        ("GetBucketPublicAccessBlock", "REST.GET.PUBLIC_ACCESS_BLOCK", "publicAccessBlock"),
        ("GetBucketEncryption", "REST.GET.ENCRYPTION", "encryption"),
    )
    for day in range(ctx.days):
        day_start = ctx.start + timedelta(days=day)
        if day_start.weekday() >= 5 and rng.random() < 0.7:
            continue
        t = day_start + timedelta(hours=14, seconds=rng.randrange(0, 5400))
        ip = rng.choice(fakes.OFFICE_IPS)
        console_login(ctx, t, ip, mfa=True)
        caller = ctx.admin_console_caller(ip, fakes.access_key_id(rng, "ASIA"), t)
        t += timedelta(seconds=rng.uniform(5, 30))
        for source, name, params in rng.sample(_CONSOLE_READS, rng.randrange(2, 6)):
            t += timedelta(seconds=rng.uniform(0.5, 20))
            ctx.sink.api_event(
                t, caller, source, name, read_only=True, request_parameters=params, response_elements=None,
                tls_host=f"{source.split('.')[0]}.{world.REGION}.amazonaws.com",
            )  # fmt: skip
        t += timedelta(seconds=rng.uniform(5, 30))
        ctx.sink.api_event(
            t, caller, "s3.amazonaws.com", "ListBuckets", read_only=True,
            request_parameters={"Host": "s3.us-east-1.amazonaws.com"}, response_elements=None,
            tls_host="s3.us-east-1.amazonaws.com",
        )  # fmt: skip
        for _ in range(rng.randrange(2, 6)):
            t += timedelta(seconds=rng.uniform(1, 40))
            bucket = rng.choice(buckets)
            if bucket == world.ARCHIVE_BUCKET and ctx.archive_logging_off and t > ctx.archive_logging_off:
                bucket = world.SITE_BUCKET
            for name, op, sub in rng.sample(reads, 3):
                t += timedelta(seconds=rng.uniform(0.05, 0.6))
                bucket_read(ctx, t, caller, bucket, name, op, sub)
            if bucket == world.ARCHIVE_BUCKET or rng.random() < 0.3:
                t += timedelta(seconds=rng.uniform(0.5, 3))
                ctx.sink.s3(
                    bucket, t, caller, "REST.GET.BUCKET", None,
                    "GET /?list-type=2&delimiter=%2F&prefix=&max-keys=300&fetch-owner=true&encoding-type=url HTTP/1.1",
                    200, bytes_sent=1_500 + rng.randrange(3_000), total_time=rng.randrange(30, 90),
                    turn_around_time=rng.randrange(20, 60),
                )  # fmt: skip


#: What the console reads on the way to S3 settings (CloudTrail management reads).
_CONSOLE_READS: tuple[tuple[str, str, dict[str, Any] | None], ...] = (
    ("cloudtrail.amazonaws.com", "DescribeTrails", {"includeShadowTrails": True}),
    ("cloudtrail.amazonaws.com", "GetTrailStatus", {"name": f"arn:aws:cloudtrail:{world.REGION}:{world.ACCOUNT_ID}:trail/{world.TRAIL_NAME}"}),
    ("cloudtrail.amazonaws.com", "GetEventSelectors", {"trailName": world.TRAIL_NAME}),
    ("iam.amazonaws.com", "GetAccountSummary", None),
    ("iam.amazonaws.com", "ListRoles", {"maxItems": 1000}),
    ("monitoring.amazonaws.com", "DescribeAlarms", {"maxRecords": 100}),
    ("sns.amazonaws.com", "ListTopics", None),
    ("s3.amazonaws.com", "GetAccountPublicAccessBlock", {"Host": f"{world.ACCOUNT_ID}.s3-control.{world.REGION}.amazonaws.com"}),
)


def console_login(ctx: DemoContext, t: datetime, ip: str, mfa: bool) -> None:
    """A successful ``ConsoleLogin`` of ops-admin."""
    caller = Caller(
        ip, fakes.CONSOLE_BROWSER, None,
        {
            "type": "IAMUser",
            "principalId": fakes.stable_principal_id("AIDA", world.ADMIN_USER),
            "arn": world.user_arn(world.ADMIN_USER),
            "accountId": world.ACCOUNT_ID,
            "userName": world.ADMIN_USER,
        },
        "TLSv1.3", "TLS_AES_128_GCM_SHA256", None, None,
    )  # fmt: skip
    ctx.sink.api_event(
        t, caller, "signin.amazonaws.com", "ConsoleLogin", read_only=False,
        request_parameters=None, response_elements={"ConsoleLogin": "Success"},
        additional={
            "LoginTo": "https://console.aws.amazon.com/console/home?hashArgs=%23&isauthcode=true&state=hashArgsFromTB_us-east-1",
            "MobileVersion": "No",
            "MFAIdentifier": f"arn:aws:iam::{world.ACCOUNT_ID}:mfa/{world.ADMIN_USER}" if mfa else None,
            "MFAUsed": "Yes" if mfa else "No",
        },
        event_type="AwsConsoleSignIn", tls_host="signin.aws.amazon.com",
    )  # fmt: skip
    event = ctx.sink.trail[-1][1]
    if not mfa:
        del event["additionalEventData"]["MFAIdentifier"]


def bucket_read(ctx: DemoContext, t: datetime, caller: Caller, bucket: str, name: str, op: str, sub: str) -> None:
    """A bucket configuration read: access log line plus CloudTrail management event."""
    rng = ctx.sink.rng
    error = None
    status, sent = 200, 200 + rng.randrange(900)
    if name == "GetBucketPolicy" and bucket == world.DATA_BUCKET:
        error, status, sent = ("NoSuchBucketPolicy", "The bucket policy does not exist"), 404, ERROR_BODY_BYTES["NoSuchBucketPolicy"]
    record = ctx.sink.s3(
        bucket, t, caller, op, None, f"GET /?{sub} HTTP/1.1", status,
        error_code=error[0] if error else None, bytes_sent=sent,
        total_time=rng.randrange(8, 60), turn_around_time=rng.randrange(5, 40),
    )  # fmt: skip
    ctx.sink.s3_event(
        t, caller, name, bucket, data=False, read_only=True, request_id=record["request_id"],
        host_id=record["host_id"], request_parameters={sub: ""}, error=error,
    )  # fmt: skip


def generate_benign(ctx: DemoContext) -> None:
    """All benign traffic for the window."""
    _Visitors(ctx).run()
    _crawlers(ctx)
    _deploys(ctx)
    _analytics(ctx)
    _admin(ctx)

