"""The ``hf-s2l`` command line: ``demo``, ``select``, ``report``, ``push``, ``export``, ``info``.

Each sub-command lives in ``hf_s2l/commands/<name>.py`` and exposes
``add_parser(subparsers)`` which registers it with a ``func(args) -> int`` default.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from .version import __version__

COMMANDS = ("demo", "select", "report", "push", "export", "info")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hf-s2l",
        description="Data-efficient fine-tuning from small-model loss trajectories (S2L, LP).",
    )
    parser.add_argument("--version", action="version", version=f"hf-s2l {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"hf_s2l.commands.{name}").add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
