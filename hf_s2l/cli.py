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

import os
import signal
import sys
from typing import Any


def _exit_interrupted() -> None:
    try:
        os.write(2, b"error: interrupted\n")
    finally:
        os._exit(130)


_raise_on_sigint = False


def _on_sigint(signum: int, frame: Any) -> None:
    """Ctrl-C in the command line: ``KeyboardInterrupt`` (``main`` prints ``error:
    interrupted``, ``finally`` blocks run), except while a module is being imported.

    An import interrupted midway is not a clean exception: numpy turns it into an
    ImportError ("Importing the numpy C-extensions failed"), C extensions leave the
    interpreter flagged so it kills itself with SIGINT at exit. Nothing of ours is open
    yet at such a point (every write is atomic), so the process ends there, with the line.
    """
    if not _raise_on_sigint:  # outside main()'s try: nothing would catch it
        _exit_interrupted()
    f = frame
    while f is not None:
        if f.f_code.co_filename.startswith("<frozen importlib"):
            _exit_interrupted()
        f = f.f_back
    raise KeyboardInterrupt


# Installed first (before the imports below and the commands' heavy ones): a Ctrl-C in the
# first moments of `hf-s2l ...` ends as `error: interrupted`, not an import traceback.
# Only when this module runs the command line, never when a program imports it.
if (__name__ == "__main__" or os.path.basename(sys.argv[0] or "") == "hf-s2l") and (
    signal.getsignal(signal.SIGINT) is signal.default_int_handler
):
    signal.signal(signal.SIGINT, _on_sigint)

import argparse  # noqa: E402
import importlib  # noqa: E402
from collections.abc import Sequence  # noqa: E402

from .version import __version__  # noqa: E402

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
    """Run ``hf-s2l``; returns the exit status (0 ok, 2 error, 130 interrupted, 141 closed pipe)."""
    global _raise_on_sigint
    debug = _debug_requested(argparse.Namespace())
    try:
        _raise_on_sigint = True
        parser = build_parser()
        args = parser.parse_args(argv)
        if not getattr(args, "func", None):
            parser.print_help()
            return EXIT_ERROR
        debug = _debug_requested(args)
        if debug and signal.getsignal(signal.SIGINT) is _on_sigint:
            signal.signal(signal.SIGINT, signal.default_int_handler)  # the full traceback
        status = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows up here, not at interpreter exit
        return status
    except BrokenPipeError:
        _raise_on_sigint = False
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        _raise_on_sigint = False
        if debug:
            raise
        print("error: interrupted", file=sys.stderr)  # noqa: T201
        return EXIT_INTERRUPTED
    except Exception as err:  # noqa: BLE001 - every runtime error becomes one line
        _raise_on_sigint = False
        if debug:
            raise
        print(f"error: {error_message(err)}", file=sys.stderr)  # noqa: T201
        return EXIT_ERROR
    finally:
        _raise_on_sigint = False


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
