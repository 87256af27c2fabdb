"""Hostile and absurd values given to the response commands: each is refused in one sentence
naming the value, before any AWS call, and never with a traceback.

Address forms follow Python's ``ipaddress`` and RFC 4007 (zone ids, ``%``); the ranges are the
IANA special-purpose registries' (multicast 224.0.0.0/4 and ff00::/8, limited broadcast
255.255.255.255, unspecified 0.0.0.0 and ::). Documentation ranges only (RFC 5737, RFC 3849).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from s3forensics.actions import policy as pol
from s3forensics.cli import main
from s3forensics.errors import ParameterError, RefusedError


@pytest.mark.parametrize("text", ["2001:db8::5%x", "2001:db8::5%eth0", "fe80::1%1/128"])
def test_an_ipv6_zone_id_is_refused(text: str) -> None:
    with pytest.raises(ParameterError, match="zone id"):
        pol.parse_network(text)


def test_a_zone_id_cannot_slip_past_the_own_address_lock_out() -> None:
    """Before: ``2001:db8::5%x`` parsed as a network that is not equal to ``2001:db8::5``, so
    blocking it while connecting from ``2001:db8::5`` was not refused."""
    with pytest.raises(ParameterError):
        pol.check_safety(pol.parse_networks(["2001:db8::5%x"]), my_ips=["2001:db8::5"])


@pytest.mark.parametrize("text", ["224.0.0.1", "239.255.255.250", "255.255.255.255", "0.0.0.0", "ff02::1", "::"])
def test_multicast_broadcast_and_unspecified_targets_are_refused(text: str) -> None:
    with pytest.raises(RefusedError, match="multicast, broadcast or unspecified"):
        pol.check_safety(pol.parse_networks([text]))


def test_a_normal_address_is_still_accepted() -> None:
    assert pol.check_safety(pol.parse_networks(["203.0.113.9", "2001:db8::9"])) == []


@pytest.mark.parametrize("text", ["99999999d", "999999999999w", "3651d"])
def test_absurd_expiry_is_one_sentence(text: str) -> None:
    with pytest.raises(ParameterError, match="longer than 3650 days"):
        pol.parse_duration(text)
    assert pol.parse_duration("3650d") == timedelta(days=3650)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--expires", "99999999d", "203.0.113.9"], "longer than 3650 days"),
        (["2001:db8::5%x"], "zone id"),
        (["255.255.255.255"], "multicast, broadcast or unspecified"),
    ],
)
def test_block_ip_cli_refuses_in_one_sentence(args: list[str], says: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["respond", "block-ip", "--bucket", "s3f-demo-site", "--my-ip", "198.51.100.7", *args])
    err = capsys.readouterr().err
    assert code != 0 and says in err and "Traceback" not in err


def test_an_audit_record_without_its_bucket_is_named_not_a_traceback(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    """A hand-edited record (``target`` without ``bucket``) is listed, and its rollback refused
    in one sentence (before: KeyError from the resource's name)."""
    import json

    from s3forensics.actions import audit

    log = tmp_path / "audit.jsonl"
    record = {
        "id": "a-20261101T000000Z-abcdef", "time": "2026-11-01T00:00:00Z", "actor": "x", "action": "block-ip",
        "kind": "s3:bucket-policy", "target": {}, "before": None, "after": "{}", "status": audit.APPLIED,
        "details": {}, "rollback_of": None,
    }
    log.write_text(json.dumps(record) + "\n")
    assert main(["respond", "list", "--audit-log", str(log)]) == 0
    assert "s3:bucket-policy {}" in capsys.readouterr().out
    code = main(["respond", "rollback", "--audit-log", str(log), record["id"], "--apply"])
    err = capsys.readouterr().err
    assert code == 1 and "names no 'bucket'" in err and "Traceback" not in err


@pytest.mark.sandbox
def test_revoke_sessions_for_a_missing_role_is_refused(fresh_sandbox: object, capsys: pytest.CaptureFixture[str]) -> None:
    """Before: a plan (and, with --apply, a failed write) for a role that does not exist,
    because get_role_policy answers NoSuchEntity for a missing role as for a missing policy."""
    code = main(["respond", "revoke-sessions", "--role", "no-such-role"])
    err = capsys.readouterr().err
    assert code == 1 and "role no-such-role does not exist" in err and "Traceback" not in err


@pytest.mark.sandbox
def test_automate_deploy_for_a_missing_bucket_creates_nothing(fresh_sandbox: object, tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    """Before: deploy --apply created the topic, role, function and alarm for a bucket that
    does not exist, and said it succeeded."""
    import boto3

    package = tmp_path / "fn.zip"
    package.write_bytes(b"PK\x05\x06" + b"\0" * 18)  # an empty zip: never read, deploy stops first
    lam = boto3.client("lambda")
    before = len(lam.list_functions()["Functions"])
    code = main(["automate", "deploy", "--bucket", "no-such-bucket-s3f", "--log-uri", "s3://s3f-demo-logs/x/", "--zip", str(package), "--apply"])
    err = capsys.readouterr().err
    assert code == 1 and "no-such-bucket-s3f cannot be reached" in err and "nothing was created" in err
    assert len(lam.list_functions()["Functions"]) == before
