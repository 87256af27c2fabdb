"""The ``s3forensics`` command line: thin, it parses arguments and calls the library.

Each command group lives in its own module with ``register(subparsers)``; the registry
below lists them explicitly. Output contracts (``convert``, ``detect``, ``check``,
``respond``) are relied on by users' scripts: keep them stable.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from s3forensics import __version__
from s3forensics.errors import S3ForensicsError

#: Modules that add command groups, each with ``register(subparsers) -> None``.
#: A module that is missing is skipped, so a partial checkout still runs.
COMMAND_MODULES: tuple[str, ...] = (
    "s3forensics.cli_sandbox",
    "s3forensics.demo.cli",
    "s3forensics.sources.cli",
    "s3forensics.queries_cli",
    "s3forensics.detections.cli",
    "s3forensics.checks.cli",
    "s3forensics.actions.cli",
    "s3forensics.reports",
)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with every registered command group."""
    parser = argparse.ArgumentParser(
        prog="s3forensics",
        description="Watch over S3 static sites, investigate suspicious access, respond.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv for debug)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=(logging.WARNING, logging.INFO, logging.DEBUG)[min(args.verbose, 2)],
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(handler(args) or 0)
    except S3ForensicsError as exc:
        print(f"s3forensics {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
