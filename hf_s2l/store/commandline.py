"""The ``hf-s2l`` command lines recorded for reproduction (pure ``shlex``; no imports).

One builder for ``hf-s2l select`` (selection.json ``command``), the card's fallback and
``hf-s2l push|export`` (the card): every token is shell-quoted by :func:`shlex.join`.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

PROGRAM = "hf-s2l"

__all__ = ["PROGRAM", "hf_s2l_command"]


def hf_s2l_command(
    subcommand: str,
    positional: Sequence[str | os.PathLike] = (),
    options: Mapping[str, Any] | Iterable[tuple[str, Any]] = (),
    *,
    extra: Sequence[str] = (),
) -> str:
    """``hf-s2l SUBCOMMAND POSITIONAL... --opt value ... EXTRA...`` as one shell-quoted line.

    ``options`` (a mapping or ``(flag, value)`` pairs, in order; repeat a pair to repeat a
    flag): ``None``/``False`` -> left out, ``True`` -> the bare flag, a list/tuple -> the flag
    once per item, anything else -> ``str(value)`` (format numbers yourself, e.g.
    ``repr(budget)``). ``extra`` tokens are appended as they are (still quoted).
    """
    parts = [PROGRAM, str(subcommand), *(str(os.fspath(p)) for p in positional)]
    items = options.items() if isinstance(options, Mapping) else options
    for flag, value in items:
        if value is None or value is False:
            continue
        if value is True:
            parts.append(flag)
        elif isinstance(value, (list, tuple)):
            for v in value:
                parts += [flag, str(v)]
        else:
            parts += [flag, str(value)]
    return shlex.join([*parts, *(str(e) for e in extra)])
