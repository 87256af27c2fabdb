"""Property: any interleaving of block, unblock and rollback on one bucket policy, from two
writers at once, ends with exactly the policy the audit log says it holds.

The policy lives in memory (the bucket-policy kind's read and write swapped for a dict), so
hypothesis can try many interleavings quickly; the engine, its lock, the audit log and the
policy merging are the real ones. The same writers run against the sandbox in
``test_actions_concurrency.py``.
"""

from __future__ import annotations

import itertools
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from s3forensics.actions import audit, resources
from s3forensics.actions.block import plan_block_ip, plan_unblock_ip
from s3forensics.actions.policy import load_policy
from s3forensics.actions.rollback import rollback
from s3forensics.errors import S3ForensicsError

BUCKET = "s3f-demo-site"
ADDRESSES = [f"203.0.113.{i}" for i in range(1, 7)]  # RFC 5737 documentation range
OPS = st.lists(
    st.one_of(
        st.tuples(st.just("block"), st.sampled_from(ADDRESSES)),
        st.tuples(st.just("unblock"), st.sampled_from(ADDRESSES)),
        st.tuples(st.just("rollback"), st.integers(min_value=0, max_value=8)),
    ),
    min_size=1,
    max_size=10,
)
_RUN = itertools.count()


@pytest.fixture
def memory_policy(monkeypatch: pytest.MonkeyPatch) -> dict[str, str | None]:
    store: dict[str, str | None] = {BUCKET: None}
    spec = resources.KINDS["s3:bucket-policy"]

    def read(target, session):  # type: ignore[no-untyped-def]
        return store[target["bucket"]]

    def write(target, state, session, token=None):  # type: ignore[no-untyped-def]
        store[target["bucket"]] = state

    monkeypatch.setitem(resources.KINDS, "s3:bucket-policy", resources.ResourceKind(**{**spec.__dict__, "read": read, "write": write}))
    return store


def _writer(ops: list[tuple[str, object]], log: Path, applied: list[str], lock: threading.Lock) -> None:
    session = object()  # never used: the kind is in memory
    for op, arg in ops:
        try:
            if op == "rollback":
                with lock:
                    ids = list(applied)
                if ids:
                    result = rollback(ids[int(arg) % len(ids)], apply=True, session=session, audit_log=log)  # type: ignore[call-overload]
                else:
                    continue
            else:
                def make(op: str = op, arg: object = arg):  # type: ignore[no-untyped-def]
                    if op == "block":
                        return plan_block_ip(BUCKET, [str(arg)], my_ips=["198.51.100.7"], session=session)
                    return plan_unblock_ip(BUCKET, [str(arg)], session=session)

                result = resources.execute(make(), apply=True, session=session, audit_log=log, actor="test", replan=make)
        except S3ForensicsError:
            continue  # a refusal (rolled back already, changed since) changes nothing: fine
        if result.applied:
            with lock:
                applied.append(result.action_id)


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=OPS, second=OPS)
def test_any_interleaving_ends_as_the_audit_log_says(first, second, memory_policy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(audit, "actor", lambda session=None, arn=None: "test")
    log = tmp_path / f"run-{next(_RUN)}" / "audit.jsonl"
    memory_policy[BUCKET] = None
    applied: list[str] = []
    lock = threading.Lock()
    threads = [threading.Thread(target=_writer, args=(ops, log, applied, lock)) for ops in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done = [r for r in audit.iter_records(log) if r.status == audit.APPLIED]
    # Each change starts from what the one before it left: no change was lost in between.
    for earlier, later in itertools.pairwise(done):
        assert load_policy(later.before) == load_policy(earlier.after), (earlier.id, later.id)
    # And the policy holds exactly what the last change left.
    expected = done[-1].after if done else None
    assert load_policy(memory_policy[BUCKET]) == load_policy(expected)
    # Every record said applied is one this run saw succeed, and none is left half-done.
    assert sorted(r.id for r in done) == sorted(applied)
    assert all(r.status != audit.STARTED for r in audit.latest(log))
