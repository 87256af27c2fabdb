"""``s3forensics sandbox start|stop|status|env``: the local sandbox account."""

from __future__ import annotations

import argparse
import sys

from s3forensics.lab import sandbox


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``sandbox`` command group."""
    parser = subparsers.add_parser("sandbox", help="run a local sandbox AWS account (moto on 127.0.0.1)")
    actions = parser.add_subparsers(dest="sandbox_action", metavar="ACTION", required=True)
    start = actions.add_parser("start", help="start and seed the sandbox; print the lines to export")
    start.add_argument("--no-seed", action="store_true", help="start an empty account")
    start.set_defaults(handler=_start)
    actions.add_parser("stop", help="stop the sandbox").set_defaults(handler=_stop)
    actions.add_parser("status", help="is the sandbox running, and where").set_defaults(handler=_status)
    actions.add_parser("env", help="print the export lines for the running sandbox").set_defaults(handler=_env)


def _start(args: argparse.Namespace) -> int:
    state = sandbox.start(seed=not args.no_seed)
    print(f"sandbox running on {state.endpoint} (pid {state.pid}, account {state.account_id})", file=sys.stderr)
    print("\n".join(sandbox.env_lines(state)))
    return 0


def _stop(args: argparse.Namespace) -> int:
    print("sandbox stopped" if sandbox.stop() else "no sandbox was running", file=sys.stderr)
    return 0


def _status(args: argparse.Namespace) -> int:
    current, state = sandbox.status()
    if state is None:
        print("stopped")
        return 3
    print(f"{current} {state.endpoint} pid={state.pid} state={sandbox.state_file()}")
    return 0 if current == "running" else 3


def _env(args: argparse.Namespace) -> int:
    current, state = sandbox.status()
    if current != "running" or state is None:
        print("no sandbox is running: run `s3forensics sandbox start`", file=sys.stderr)
        return 3
    print("\n".join(sandbox.env_lines(state)))
    return 0
