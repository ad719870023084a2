"""The ``hf-s2l`` command line: ``demo``, ``select``, ``report``, ``transfer``, ``push``,
``export``, ``info``.

Each sub-command lives in ``hf_s2l/commands/<name>.py`` and exposes
``add_parser(subparsers)`` which registers it with a ``func(args) -> int`` default.

Errors: any exception a command raises is printed as one ``error: <message>`` line on
stderr and the exit status is 2 (as for argparse's usage errors); ``--debug`` (before or
after the sub-command) or ``HF_S2L_DEBUG=1`` shows the traceback instead. A reader that
closes the pipe early (``hf-s2l info --json STORE | head``) ends the command quietly
with status 141 (128 + SIGPIPE, as ``yes | head`` does).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from .version import __version__

COMMANDS = ("demo", "select", "report", "transfer", "push", "export", "info")
EXIT_ERROR = 2
EXIT_BROKEN_PIPE = 141
EXIT_INTERRUPTED = 130
DEBUG_ENV = "HF_S2L_DEBUG"
_DEBUG_HELP = f"show the Python traceback of an error (or set {DEBUG_ENV}=1)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hf-s2l",
        description="Data-efficient fine-tuning from small-model loss trajectories (S2L, LP).",
    )
    parser.add_argument("--version", action="version", version=f"hf-s2l {__version__}")
    parser.add_argument("--debug", action="store_true", help=_DEBUG_HELP)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"hf_s2l.commands.{name}").add_parser(sub)
    for p in sub.choices.values():  # `hf-s2l select ... --debug` works too
        # SUPPRESS: a sub-command without --debug must not reset `hf-s2l --debug select ...`
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=_DEBUG_HELP)
    return parser


def _debug_requested(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "debug", False)) or os.environ.get(DEBUG_ENV, "") not in ("", "0")


def error_message(err: BaseException) -> str:
    """The text of ``err`` for an ``error:`` line (``KeyError`` without its quotes)."""
    if isinstance(err, KeyError) and len(err.args) == 1 and isinstance(err.args[0], str):
        return err.args[0]
    text = str(err).strip()
    return text if text else type(err).__name__


def _silence_stdout() -> None:
    """After EPIPE: point stdout at /dev/null so the interpreter's final flush cannot fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout without a file descriptor (tests, IDEs)
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``hf-s2l``; returns the exit status (0 ok, 2 error, 141 closed pipe)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_ERROR
    debug = _debug_requested(args)
    try:
        status = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows up here, not at interpreter exit
        return status
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        if debug:
            raise
        print("error: interrupted", file=sys.stderr)  # noqa: T201
        return EXIT_INTERRUPTED
    except Exception as err:  # noqa: BLE001 - every runtime error becomes one line
        if debug:
            raise
        print(f"error: {error_message(err)}", file=sys.stderr)  # noqa: T201
        return EXIT_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
