"""What the demo world holds while it is generated: time window, inventories, actors, sink.

The inventories (site pages and assets, data exports and invoices, archive backups) and
the long-lived sessions of the named principals are drawn once from the seed, so benign
traffic and incidents agree on object sizes, keys and access keys.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from s3forensics.lab.demo import fakes, world
from s3forensics.lab.demo.records import Caller, Sink, role_identity, user_identity

#: The public site's pages: key -> images shown on the page.
SITE_ASSETS = ("css/site.css", "js/app.js", "js/vendor.js", "img/logo.png", "fonts/inter-var.woff2")
#: Keys browsers ask for that the site does not have.
MISSING_KEYS = ("favicon.ico", "apple-touch-icon.png", "apple-touch-icon-precomposed.png")
ANALYTICS_SESSION = "i-0a1b2c3d4e5f60718"
DEPLOY_SESSION = "deploy-session"


@dataclass
class DemoContext:
    """Mutable state shared by the benign traffic and the incident generators."""

    seed: int
    start: datetime
    days: int
    sink: Sink
    site_sizes: dict[str, int] = field(default_factory=dict)
    page_images: dict[str, tuple[str, ...]] = field(default_factory=dict)
    data_sizes: dict[str, int] = field(default_factory=dict)
    archive_sizes: dict[str, int] = field(default_factory=dict)
    #: When each data object appears (initial inventory: the start of the window).
    data_created: dict[str, datetime] = field(default_factory=dict)
    #: When the archive's access logging stops (set by the archive incident).
    archive_logging_off: datetime | None = None
    #: The analytics instance role's access key, one per day (EC2 refreshes credentials).
    analytics_keys: list[str] = field(default_factory=list)
    admin_key: str = ""
    ci_key: str = ""

    @property
    def end(self) -> datetime:
        """End of the window (exclusive)."""
        return self.start + timedelta(days=self.days)

    def rng(self, name: str) -> random.Random:
        """An independent RNG for one part of the world (stable when other parts change)."""
        return random.Random(f"{self.seed}:{name}")

    # --- callers ------------------------------------------------------------------

    def analytics_caller(
        self, day: int, ip: str = fakes.ANALYTICS_HOST_IP, user_agent: str = fakes.BOTO3_ANALYTICS
    ) -> Caller:
        """The analytics-export instance role on ``day`` (its credentials, maybe used elsewhere)."""
        created = self.start + timedelta(days=day, minutes=-17)
        return Caller(
            ip=ip,
            user_agent=user_agent,
            requester=_assumed(world.ANALYTICS_ROLE, ANALYTICS_SESSION),
            identity=role_identity(world.ANALYTICS_ROLE, ANALYTICS_SESSION, self.analytics_keys[day], created, ec2=True),
            tls_version="TLSv1.2",
            cipher_suite="ECDHE-RSA-AES128-GCM-SHA256",
        )

    def deploy_caller(self, access_key: str, created: datetime, ip: str = fakes.CI_RUNNER_IP, user_agent: str = fakes.AWS_CLI_SYNC) -> Caller:
        """A site-deploy role session."""
        return Caller(
            ip=ip,
            user_agent=user_agent,
            requester=_assumed(world.DEPLOY_ROLE, DEPLOY_SESSION),
            identity=role_identity(world.DEPLOY_ROLE, DEPLOY_SESSION, access_key, created),
        )

    def admin_console_caller(self, ip: str, session_key: str, signed_in: datetime) -> Caller:
        """ops-admin acting through the S3 console."""
        return Caller(
            ip=ip,
            user_agent=fakes.S3_CONSOLE,
            requester=world.user_arn(world.ADMIN_USER),
            identity=user_identity(world.ADMIN_USER, session_key, console_created=signed_in),
            tls_version="TLSv1.3",
            cipher_suite="TLS_AES_128_GCM_SHA256",
        )


def _assumed(role: str, session: str) -> str:
    return f"arn:aws:sts::{world.ACCOUNT_ID}:assumed-role/{role}/{session}"


def build_context(seed: int, start: datetime, days: int) -> DemoContext:
    """Draw the inventories and long-lived keys for ``seed``."""
    ctx = DemoContext(seed=seed, start=start, days=days, sink=Sink(random.Random(f"{seed}:ids")))
    rng = ctx.rng("inventory")
    sizes = ctx.site_sizes
    sizes.update(
        {
            "index.html": 18_432 + rng.randrange(2_000),
            "about.html": 9_120 + rng.randrange(1_000),
            "pricing.html": 12_804 + rng.randrange(1_000),
            "contact.html": 7_311 + rng.randrange(800),
            "blog/index.html": 14_022 + rng.randrange(1_500),
            "404.html": 1_024,
            "robots.txt": 68,
            "sitemap.xml": 2_870 + rng.randrange(300),
            "css/site.css": 48_211 + rng.randrange(3_000),
            "js/app.js": 121_560 + rng.randrange(8_000),
            "js/vendor.js": 311_204 + rng.randrange(10_000),
            "img/logo.png": 2_056,
            "img/hero.jpg": 284_377 + rng.randrange(20_000),
            "img/team.jpg": 191_045 + rng.randrange(20_000),
            "img/pricing.svg": 8_775,
            "fonts/inter-var.woff2": 48_256,
        }
    )
    ctx.page_images.update(
        {
            "index.html": ("img/hero.jpg",),
            "about.html": ("img/team.jpg",),
            "pricing.html": ("img/pricing.svg",),
            "contact.html": (),
            "blog/index.html": (),
        }
    )
    for n in range(1, 15):
        page = f"blog/post-{n:02d}.html"
        image = f"img/blog/post-{n:02d}.jpg"
        sizes[page] = 21_000 + rng.randrange(20_000)
        sizes[image] = 80_000 + rng.randrange(140_000)
        ctx.page_images[page] = (image,)

    # Private data: monthly customer exports, daily order exports, invoices.
    for n in range(12):
        key = f"exports/customers-{n:02d}.csv"
        ctx.data_sizes[key] = 6_000_000 + rng.randrange(9_000_000)
    for n in range(40):
        day = start - timedelta(days=41 - n)
        key = f"exports/orders-{day:%Y-%m-%d}.csv"
        ctx.data_sizes[key] = 4_000_000 + rng.randrange(6_000_000)
    for n in range(480):
        key = f"invoices/2026/INV-{26_000 + n * 7 + rng.randrange(7):06d}.pdf"
        ctx.data_sizes[key] = 40_000 + rng.randrange(160_000)
    for key in ctx.data_sizes:
        ctx.data_created[key] = start - timedelta(days=1)
    for n in range(1, 13):
        ctx.archive_sizes[f"backups/2025-{n:02d}.tar.gz"] = 90_000_000 + rng.randrange(60_000_000)
    ctx.archive_sizes["backups/customers-2024.sql.gz"] = 41_000_000 + rng.randrange(5_000_000)

    ctx.analytics_keys = [fakes.access_key_id(rng, "ASIA") for _ in range(days)]
    ctx.admin_key = fakes.access_key_id(rng, "AKIA")
    ctx.ci_key = fakes.access_key_id(rng, "AKIA")
    return ctx
