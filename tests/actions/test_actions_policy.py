"""The pure policy merge: statements survive, repeats add nothing, limits and refusals hold."""

from __future__ import annotations

import copy
import ipaddress
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from s3forensics.actions import policy as pol
from s3forensics.errors import ActionError, ParameterError, RefusedError

BUCKET = "s3f-demo-site"
NOW = datetime(2026, 11, 16, 12, 0, tzinfo=UTC)


def site_policy() -> dict:
    return {
        "Version": "2012-10-17",
        "Id": "SitePolicy",
        "Statement": [
            {"Sid": "PublicReadForWebsite", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"},
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111122223333:role/site-deploy"},
                "Action": ["s3:PutObject", "s3:DeleteObject"],
                "Resource": f"arn:aws:s3:::{BUCKET}/*",
            },
        ],
    }


def nets(*items: str) -> list:
    return pol.parse_networks(items)


def test_merge_adds_one_deny_and_keeps_every_statement_in_place() -> None:
    before = site_policy()
    snapshot = copy.deepcopy(before)
    result = pol.merge_block(before, BUCKET, nets("203.0.113.50", "2001:db8::/48"))
    assert before == snapshot, "the input must not be mutated"
    assert result.policy["Statement"][:3] == snapshot["Statement"]
    assert result.policy["Id"] == "SitePolicy" and result.policy["Version"] == "2012-10-17"
    deny = result.policy["Statement"][3]
    assert deny["Sid"] == "S3ForensicsBlock" and deny["Effect"] == "Deny"
    assert deny["Resource"] == [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"]
    assert deny["Condition"] == {"IpAddress": {"aws:SourceIp": ["203.0.113.50/32", "2001:db8::/48"]}}
    assert result.added == ("203.0.113.50/32", "2001:db8::/48")


def test_repeat_and_covered_blocks_add_nothing() -> None:
    once = pol.merge_block(site_policy(), BUCKET, nets("203.0.113.0/24")).policy
    again = pol.merge_block(once, BUCKET, nets("203.0.113.0/24", "203.0.113.50"))
    assert not again.changed and again.policy == once
    assert set(again.unchanged) == {"203.0.113.0/24", "203.0.113.50/32"}


def test_second_block_merges_into_the_same_statement() -> None:
    once = pol.merge_block(site_policy(), BUCKET, nets("203.0.113.50")).policy
    twice = pol.merge_block(once, BUCKET, nets("198.51.100.7")).policy
    owned = [s for s in twice["Statement"] if s.get("Sid", "").startswith("S3ForensicsBlock")]
    assert len(owned) == 1 and owned[0]["Condition"]["IpAddress"]["aws:SourceIp"] == ["203.0.113.50/32", "198.51.100.7/32"]


def test_expiry_lives_in_the_sid_and_expire_removes_only_expired() -> None:
    p = pol.merge_block(site_policy(), BUCKET, nets("203.0.113.50"), expires_at=NOW + timedelta(hours=1)).policy
    p = pol.merge_block(p, BUCKET, nets("198.51.100.7")).policy
    sids = [s.get("Sid") for s in p["Statement"]]
    assert "S3ForensicsBlockUntil20261116T130000Z" in sids and "S3ForensicsBlock" in sids
    assert pol.blocked(p) == {"203.0.113.50/32": NOW + timedelta(hours=1), "198.51.100.7/32": None}
    early = pol.remove_blocks(p, BUCKET, expired_at=NOW)
    assert not early.changed
    late = pol.remove_blocks(p, BUCKET, expired_at=NOW + timedelta(hours=2))
    assert late.removed == ("203.0.113.50/32",)
    assert pol.blocked(late.policy) == {"198.51.100.7/32": None}
    assert late.policy["Statement"][:3] == site_policy()["Statement"]


def test_expiry_moves_only_when_extended_or_made_permanent() -> None:
    p = pol.merge_block(None, BUCKET, nets("203.0.113.50"), expires_at=NOW + timedelta(hours=1)).policy
    shorter = pol.merge_block(p, BUCKET, nets("203.0.113.50"), expires_at=NOW + timedelta(minutes=5), extend=True)
    assert not shorter.changed
    later = NOW + timedelta(hours=2)
    assert not pol.merge_block(p, BUCKET, nets("203.0.113.50"), expires_at=later).changed, "a repeat leaves the block alone"
    extended = pol.merge_block(p, BUCKET, nets("203.0.113.50"), expires_at=later, extend=True)
    assert pol.blocked(extended.policy) == {"203.0.113.50/32": later}
    permanent = pol.merge_block(p, BUCKET, nets("203.0.113.50"))
    assert permanent.added == ("203.0.113.50/32",)
    assert pol.blocked(permanent.policy) == {"203.0.113.50/32": None}
    assert [s["Sid"] for s in permanent.policy["Statement"]] == ["S3ForensicsBlock"]


def test_unblock_everything_from_no_policy_gives_no_policy() -> None:
    p = pol.merge_block(None, BUCKET, nets("203.0.113.50")).policy
    assert p["Version"] == "2012-10-17"
    gone = pol.remove_blocks(p, BUCKET, networks=nets("203.0.113.50"))
    assert gone.policy is None and gone.removed == ("203.0.113.50/32",)


def test_single_statement_object_is_preserved() -> None:
    single = {"Version": "2012-10-17", "Statement": site_policy()["Statement"][0]}
    merged = pol.merge_block(single, BUCKET, nets("203.0.113.50")).policy
    assert merged["Statement"][0] == single["Statement"]
    back = pol.remove_blocks(merged, BUCKET, networks=nets("203.0.113.50")).policy
    # Same statements (now as a one-element list); rollback restores the exact saved text.
    assert back["Statement"] == [single["Statement"]]


def test_policy_size_limit_is_a_hard_refusal() -> None:
    many = [ipaddress.ip_network(f"203.0.{i // 256}.{i % 256}") for i in range(1200)]
    with pytest.raises(RefusedError, match="20480-byte limit"):
        pol.merge_block(site_policy(), BUCKET, many)


def test_hand_edited_kit_statement_is_not_touched() -> None:
    p = site_policy()
    p["Statement"].append({"Sid": "S3ForensicsBlock", "Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"})
    with pytest.raises(ActionError, match="edited by hand"):
        pol.merge_block(p, BUCKET, nets("203.0.113.50"))


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("0.0.0.0/0", "every IPv4 address"),
        ("::/0", "every IPv6 address"),
        ("10.1.0.0/16", "private"),
        ("192.168.1.10", "private"),
        ("127.0.0.1", "loopback"),
        ("fd00::/8", "private"),
        ("198.0.0.0/7", "broader than /8"),
        ("198.51.100.0/24", "your own address"),
    ],
)
def test_refusals(address: str, reason: str) -> None:
    with pytest.raises(RefusedError, match=reason):
        pol.check_safety(nets(address), my_ips=["198.51.100.20"])
    assert pol.check_safety(nets(address), my_ips=["198.51.100.20"], force=True)


def test_too_many_addresses_refused_unless_forced() -> None:
    many = [ipaddress.ip_network(f"203.0.113.{i}") for i in range(1, 11)]
    with pytest.raises(RefusedError, match="more than the limit of 5"):
        pol.check_safety(many, max_new=5)
    assert pol.check_safety(many, max_new=5, force=True)


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("::ffff:0.0.0.0/96", "0.0.0.0/0 is every IPv4 address"),
        ("::ffff:0:0/96", "every IPv4 address"),
        ("::ffff:10.0.0.0/104", "10.0.0.0/8 is a private"),
        ("::ffff:192.168.1.10", "private"),
        ("::ffff:198.0.0.0/103", "broader than /8"),
        ("::ffff:198.51.100.0/120", "198.51.100.0/24 contains your own address 198.51.100.20/32"),
        ("::fffe:0:0/95", "holds ::ffff:0:0/96, every IPv4 address in IPv6 form"),
        ("2002:c633:6400::/40", "6to4 range embedding IPv4 198.51.100.0/24"),
        ("2002:cb00:7100::/40", "give 203.0.113.0/24"),
        ("64:ff9b::cb00:7105", "NAT64 range embedding IPv4 203.0.113.5/32"),
    ],
)
def test_ipv4_written_in_ipv6_form_is_judged_as_ipv4(address: str, reason: str) -> None:
    with pytest.raises(RefusedError, match=reason):
        pol.check_safety(nets(address), my_ips=["198.51.100.20"])
    assert pol.check_safety(nets(address), my_ips=["198.51.100.20"], force=True)


def test_ipv4_mapped_forms_become_ipv4_everywhere() -> None:
    assert pol.parse_network("::ffff:203.0.113.0/120") == ipaddress.ip_network("203.0.113.0/24")
    assert pol.parse_network("::ffff:203.0.113.5") == ipaddress.ip_network("203.0.113.5/32")
    assert pol.parse_network("::ffff:0.0.0.0/96") == ipaddress.ip_network("0.0.0.0/0")
    # The caller's own address given in mapped form still protects the IPv4 range, and
    # a safety check on an unconverted network (the Lambda builds its own) converts it.
    with pytest.raises(RefusedError, match=r"your own address 203\.0\.113\.5/32"):
        pol.check_safety(nets("203.0.113.0/24"), my_ips=["::ffff:203.0.113.5"])
    with pytest.raises(RefusedError, match="every IPv4 address"):
        pol.check_safety([ipaddress.ip_network("::ffff:0:0/96")])
    # What is blocked is the IPv4 form aws:SourceIp compares IPv4 clients with; a repeat
    # in either form is already covered.
    merged = pol.merge_block(site_policy(), BUCKET, nets("::ffff:203.0.113.0/120"))
    assert merged.added == ("203.0.113.0/24",)
    assert pol.blocked(merged.policy) == {"203.0.113.0/24": None}
    again = pol.merge_block(merged.policy, BUCKET, nets("203.0.113.7", "::ffff:203.0.113.0/120"))
    assert not again.changed and again.unchanged == ("203.0.113.7/32", "203.0.113.0/24")
    # Ordinary IPv6 is untouched and still passes.
    assert pol.check_safety(nets("2001:db8::/32", "2001:db8:1::5")) == []


@pytest.mark.parametrize("bad", ["203.0.113.500", "203.0.113.5/24", "x' OR 1=1 --", ""])
def test_bad_addresses_are_named(bad: str) -> None:
    with pytest.raises(ParameterError, match="address"):
        pol.parse_networks([bad])


@pytest.mark.parametrize(("text", "expected"), [("30m", timedelta(minutes=30)), ("24h", timedelta(hours=24)), ("1d12h", timedelta(hours=36)), ("2w", timedelta(weeks=2))])
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert pol.parse_duration(text) == expected


@pytest.mark.parametrize("bad", ["", "soon", "10", "0h", "5x", "1h forever"])
def test_parse_duration_rejects(bad: str) -> None:
    with pytest.raises(ParameterError, match="duration"):
        pol.parse_duration(bad)


def test_policy_diff_is_a_unified_diff_of_pretty_json() -> None:
    after = pol.merge_block(site_policy(), BUCKET, nets("203.0.113.50")).policy
    diff = pol.policy_diff(site_policy(), after, "bucket policy of s3f-demo-site")
    assert diff.startswith("--- bucket policy of s3f-demo-site (before)\n+++ bucket policy of s3f-demo-site (after)\n")
    assert '+      "Sid": "S3ForensicsBlock",' in diff
    assert not any(line.startswith("-  ") for line in diff.splitlines()[2:] if not line.startswith("---"))


def test_revoke_sessions_policy_denies_older_tokens() -> None:
    doc = pol.revoke_sessions_policy(NOW)
    stmt = doc["Statement"][0]
    assert stmt["Effect"] == "Deny" and stmt["Condition"] == {"DateLessThan": {"aws:TokenIssueTime": "2026-11-16T12:00:00Z"}}


# --- property: no statement is ever lost -------------------------------------------

_ACTIONS = st.sampled_from(["s3:GetObject", "s3:PutObject", "s3:*", "s3:ListBucket", ["s3:GetObject", "s3:GetObjectVersion"]])
_PRINCIPALS = st.sampled_from(["*", {"AWS": "arn:aws:iam::111122223333:root"}, {"Service": "logging.s3.amazonaws.com"}])
_CONDITIONS = st.sampled_from(
    [
        None,
        {"Bool": {"aws:SecureTransport": "false"}},
        {"IpAddress": {"aws:SourceIp": ["192.0.2.0/24"]}},
        {"NotIpAddress": {"aws:SourceIp": "198.51.100.0/24"}},
        {"StringEquals": {"aws:SourceAccount": "111122223333"}},
    ]
)


@st.composite
def statements(draw: st.DrawFn) -> dict:
    stmt: dict = {}
    if draw(st.booleans()):
        stmt["Sid"] = draw(st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,20}", fullmatch=True).filter(lambda s: not s.startswith("S3ForensicsBlock")))
    stmt["Effect"] = draw(st.sampled_from(["Allow", "Deny"]))
    stmt["Principal"] = draw(_PRINCIPALS)
    stmt["Action"] = draw(_ACTIONS)
    stmt["Resource"] = draw(st.sampled_from([f"arn:aws:s3:::{BUCKET}/*", [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"]]))
    cond = draw(_CONDITIONS)
    if cond is not None:
        stmt["Condition"] = cond
    return stmt


_V4 = st.builds(lambda a, p: ipaddress.ip_network((a, p), strict=False), st.sampled_from(["203.0.113.0", "198.51.100.0", "192.0.2.0"]).map(ipaddress.IPv4Address).map(int).flatmap(lambda base: st.integers(base, base + 255)), st.integers(24, 32))
_V6 = st.builds(lambda a, p: ipaddress.ip_network((a, p), strict=False), st.integers(int(ipaddress.IPv6Address("2001:db8::")), int(ipaddress.IPv6Address("2001:db8:ffff::"))), st.integers(32, 128))
_EXPIRY = st.one_of(st.none(), st.integers(1, 72).map(lambda h: NOW + timedelta(hours=h)))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    existing=st.lists(statements(), min_size=0, max_size=6),
    as_single=st.booleans(),
    rounds=st.lists(st.tuples(st.lists(st.one_of(_V4, _V6), min_size=1, max_size=8), _EXPIRY, st.booleans()), min_size=1, max_size=4),
)
def test_property_merge_never_loses_a_statement(existing: list, as_single: bool, rounds: list) -> None:
    policy: dict | None
    if not existing:
        policy = None
    elif as_single and len(existing) == 1:
        policy = {"Version": "2012-10-17", "Statement": existing[0]}
    else:
        policy = {"Version": "2012-10-17", "Statement": existing}
    original = json.loads(json.dumps(policy))
    current = policy
    for networks, expires_at, extend in rounds:
        result = pol.merge_block(current, BUCKET, networks, expires_at=expires_at, extend=extend)
        current = result.policy
        # Every foreign statement survives, identical and in order.
        assert pol.other_statements(current) == pol.other_statements(original)
        # Every requested address is blocked until at least the requested time.
        blocks = pol.blocked(current)
        for net in networks:
            covering = [exp for addr, exp in blocks.items() if ipaddress.ip_network(addr).version == net.version and net.subnet_of(ipaddress.ip_network(addr))]
            assert covering
            if expires_at is None or extend:
                assert any(e is None or (expires_at is not None and e >= expires_at) for e in covering)
        # A repeat adds nothing.
        again = pol.merge_block(current, BUCKET, networks, expires_at=expires_at, extend=extend)
        assert not again.changed and again.policy == current
        assert pol.policy_size(current) <= pol.MAX_POLICY_BYTES
    # Removing every block gives back the original document.
    cleared = pol.remove_blocks(current, BUCKET, networks=[ipaddress.ip_network(a) for a in pol.blocked(current)])
    assert pol.other_statements(cleared.policy) == pol.other_statements(original)
    assert pol.blocked(cleared.policy) == {}
    if original is None:
        assert cleared.policy is None
