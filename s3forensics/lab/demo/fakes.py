"""Deterministic fake values for the demo world: ids, addresses, user agents, rhythm.

Every value comes from a ``random.Random`` the caller passes in, so a seed fixes the whole
world. Addresses are documentation ranges only (192.0.2.0/24, 198.51.100.0/24,
203.0.113.0/24, 2001:db8::/32); user agents are the shapes real clients send.
"""

from __future__ import annotations

import base64
import hashlib
import random
import string
import uuid
from datetime import datetime

from s3forensics.lab.demo import world

_ALNUM = string.ascii_letters + string.digits
_UPPER_ALNUM = string.ascii_uppercase + string.digits


def request_id(rng: random.Random) -> str:
    """An S3 request id: 16 upper-case hex digits."""
    return f"{rng.getrandbits(64):016X}"


def host_id(rng: random.Random) -> str:
    """An S3 extended request id (``x-amz-id-2``): 76 base64 characters."""
    return base64.b64encode(rng.randbytes(56)).decode("ascii")


def event_id(rng: random.Random) -> str:
    """A CloudTrail event id (a version-4 UUID drawn from ``rng``)."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def access_key_id(rng: random.Random, prefix: str = "ASIA") -> str:
    """A temporary (``ASIA``) or long-term (``AKIA``) access key id."""
    return prefix + "".join(rng.choices(_UPPER_ALNUM, k=16))


def log_suffix(rng: random.Random) -> str:
    """The random tail of a server access log object name: 16 upper-case hex digits."""
    return f"{rng.getrandbits(64):016X}"


def trail_suffix(rng: random.Random) -> str:
    """The random tail of a CloudTrail log file name: 16 letters and digits."""
    return "".join(rng.choices(_ALNUM, k=16))


def stable_principal_id(prefix: str, name: str) -> str:
    """An IAM unique id (``AROA...``/``AIDA...``) fixed by the principal's name, not the seed."""
    digest = hashlib.sha256(f"{world.ACCOUNT_ID}:{name}".encode()).digest()
    tail = "".join(_UPPER_ALNUM[b % len(_UPPER_ALNUM)] for b in digest[:17])
    return prefix + tail


def iso(t: datetime) -> str:
    """``2026-11-16T04:05:06Z`` (CloudTrail's time format)."""
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


# --- client addresses ----------------------------------------------------------------

#: Addresses reserved for named actors; benign visitors never use them.
CI_RUNNER_IP = "198.51.100.10"
ANALYTICS_HOST_IP = "198.51.100.20"
OFFICE_IPS = ("198.51.100.30", "198.51.100.31")
UPTIME_MONITOR_IP = "198.51.100.40"
CRAWLER_IPS = {
    "googlebot": ("198.51.100.66", "198.51.100.67", "198.51.100.68"),
    "bingbot": ("198.51.100.71", "198.51.100.72"),
    "yandexbot": ("198.51.100.75",),
}
RESERVED_IPS = frozenset(
    {CI_RUNNER_IP, ANALYTICS_HOST_IP, UPTIME_MONITOR_IP, *OFFICE_IPS}
    | {ip for ips in CRAWLER_IPS.values() for ip in ips}
)
#: 203.0.113.64-127 and 192.0.2.192-255 are kept for incident actors.
_INCIDENT_V4 = tuple(f"203.0.113.{i}" for i in range(64, 128)) + tuple(f"192.0.2.{i}" for i in range(192, 256))


def visitor_pool(rng: random.Random, size: int = 2400) -> list[str]:
    """Benign visitor addresses: all free IPv4 documentation hosts, then IPv6 ones."""
    v4 = [f"192.0.2.{i}" for i in range(1, 192)]
    v4 += [f"198.51.100.{i}" for i in range(100, 255)]
    v4 += [f"203.0.113.{i}" for i in (*range(1, 64), *range(128, 255))]
    v4 = [ip for ip in v4 if ip not in RESERVED_IPS and ip not in _INCIDENT_V4]
    v6: set[str] = set()
    while len(v4) + len(v6) < size:
        v6.add(f"2001:db8:{rng.randrange(1, 0xFFFF):x}:{rng.randrange(0, 0xFFFF):x}::{rng.randrange(1, 0xFFFF):x}")
    pool = v4 + sorted(v6)
    rng.shuffle(pool)
    return pool


# --- user agents ----------------------------------------------------------------------

#: (user agent, weight): what browsers sent in late 2026, mobile included.
BROWSER_AGENTS: tuple[tuple[str, float], ...] = (
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36", 24),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36", 10),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36 Edg/142.0.3595.65", 7),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:145.0) Gecko/20100101 Firefox/145.0", 6),
    ("Mozilla/5.0 (X11; Linux x86_64; rv:145.0) Gecko/20100101 Firefox/145.0", 2),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Safari/537.36", 2),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Safari/605.1.15", 8),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Mobile/15E148 Safari/604.1", 16),
    ("Mozilla/5.0 (iPad; CPU OS 18_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Mobile/15E148 Safari/604.1", 3),
    ("Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Mobile Safari/537.36", 14),
    ("Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/28.0 Chrome/130.0.0.0 Mobile Safari/537.36", 3),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/142.0.7444.77 Mobile/15E148 Safari/604.1", 2),
    # Broken clients exist: S3 writes their quotes as sent, without escaping.
    ('"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36"', 0.15),
    ('Mozilla/5.0 (compatible; "LinkChecker"/10.5; +https://linkchecker.github.io/linkchecker/)', 0.1),
)

CRAWLER_AGENTS = {
    "googlebot": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "bingbot": "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "yandexbot": "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
}
LINK_PREVIEW_AGENTS = (
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    "Twitterbot/1.0",
)
UPTIME_AGENT = "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)"

AWS_CLI_SYNC = (
    "aws-cli/2.31.4 md/awscrt#0.27.6 ua/2.1 os/linux#6.8.0-1036-aws md/arch#x86_64 lang/python#3.13.7 "
    "md/pyimpl#CPython m/b,E,Z cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.24 md/prompt#off "
    "md/command#s3.sync"
)
AWS_CLI_STS = (
    "aws-cli/2.31.4 md/awscrt#0.27.6 ua/2.1 os/linux#6.8.0-1036-aws md/arch#x86_64 lang/python#3.13.7 "
    "md/pyimpl#CPython m/E cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.24 md/prompt#off "
    "md/command#sts.assume-role"
)
BOTO3_ANALYTICS = (
    "Boto3/1.40.61 md/Botocore#1.40.61 ua/2.1 os/linux#6.1.0-40-cloud-amd64 md/arch#x86_64 lang/python#3.11.2 "
    "md/pyimpl#CPython m/Z,b cfg/retry-mode#legacy Botocore/1.40.61"
)
S3_CONSOLE = (
    "[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.788 Linux/5.10.240-218.958.amzn2int.x86_64 "
    "OpenJDK_64-Bit_Server_VM/25.462-b08 java/1.8.0_462 vendor/Oracle_Corporation cfg/retry-mode/standard]"
)
CONSOLE_BROWSER = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36"

# --- TLS ----------------------------------------------------------------------------

#: (tls version, cipher suite, weight) for HTTPS clients.
TLS_PROFILES: tuple[tuple[str, str, float], ...] = (
    ("TLSv1.3", "TLS_AES_128_GCM_SHA256", 55),
    ("TLSv1.3", "TLS_AES_256_GCM_SHA384", 10),
    ("TLSv1.3", "TLS_CHACHA20_POLY1305_SHA256", 5),
    ("TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256", 25),
    ("TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384", 5),
)

# --- daily rhythm -------------------------------------------------------------------

#: Relative traffic per local hour (the audience lives around UTC-5).
_LOCAL_HOUR_WEIGHTS = (
    0.30, 0.20, 0.14, 0.10, 0.10, 0.14, 0.28, 0.55, 0.85, 1.00, 1.05, 1.05,
    1.10, 1.05, 1.00, 0.95, 0.95, 0.95, 1.05, 1.15, 1.15, 0.95, 0.70, 0.45,
)
UTC_OFFSET_HOURS = -5


def hour_weights_utc() -> list[float]:
    """Relative traffic for each UTC hour 0..23."""
    return [_LOCAL_HOUR_WEIGHTS[(h + UTC_OFFSET_HOURS) % 24] for h in range(24)]
