"""The checks shared by the JSON files hf-s2l reads back: a store's ``meta.json``
(:mod:`hf_s2l.store.schema`) and a saved selection's ``selection.json``
(:mod:`hf_s2l.selection.selection_meta`).

Each file raises its own error type: the caller passes ``error(path, problem)``
(:class:`~hf_s2l.store.errors.StoreCorruptError`, ``SelectionCorruptError``), and every
problem found here is raised as that error, naming the file.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

CorruptError = Callable[[Path, str], Exception]
"""``error(path, problem)``: the exception a damaged file raises (not raised here itself)."""

INT64_MAX = 2**63 - 1


def type_name(v: Any) -> str:
    """``v``'s JSON type, as a message names it (``object``, ``array``, ``string``, ...)."""
    return {dict: "object", list: "array", str: "string", bool: "boolean"}.get(
        type(v), type(v).__name__
    )


def is_int(v: Any) -> bool:
    """An integer that fits the int64 arrays it ends up in."""
    return isinstance(v, int) and not isinstance(v, bool) and -INT64_MAX <= v <= INT64_MAX


def is_number(v: Any) -> bool:
    """A finite int or float (a huge int would overflow when read as a float)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return False
    try:
        return math.isfinite(float(v))
    except OverflowError:
        return False


def short_repr(v: Any) -> str:
    """``repr(v)``, cut to 60 characters."""
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


def parse_json(data: bytes, path: Path, error: CorruptError, what: str) -> Any:
    """``data`` (the bytes of the file ``path``) parsed as JSON; ``error`` if it is not UTF-8
    JSON, or is nested too deeply to be ``what`` (e.g. ``"a selection.json"``)."""
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise error(path, f"is not UTF-8 text ({e})") from None
    except json.JSONDecodeError as e:
        raise error(path, f"is not valid JSON ({e})") from None
    except RecursionError:
        raise error(path, f"is nested too deeply to be {what}") from None
    except ValueError as e:  # e.g. an integer with more digits than Python converts
        raise error(path, f"is not valid JSON ({e})") from None


class JsonFields:
    """Type checks of one parsed JSON file (``path``): each failure is ``error(path, problem)``.

    ``render`` writes a wrong value into the message (``repr``, or :func:`short_repr`).
    """

    def __init__(
        self, path: Path, error: CorruptError, render: Callable[[Any], str] = repr
    ) -> None:
        self.path = path
        self.error = error
        self.render = render

    def bad(self, problem: str) -> Exception:
        """The error to raise for ``problem``."""
        return self.error(self.path, problem)

    def require_object(self, meta: Any) -> None:
        """The file holds a JSON object."""
        if not isinstance(meta, dict):
            raise self.bad(f"holds a JSON {type_name(meta)}, expected an object")

    def schema_version(self, meta: dict[str, Any], newest: int, what: str) -> int:
        """``meta["schema_version"]``: a positive integer (else the file's error), at most
        ``newest`` (else ``ValueError``: a newer hf-s2l wrote the file; ``what`` names it)."""
        version = meta.get("schema_version")
        if not is_int(version) or version < 1:
            raise self.bad(f"has schema_version {version!r}, expected a positive integer")
        if version > newest:
            raise ValueError(
                f"{self.path}: {what} schema version {version} is newer than this hf-s2l "
                f"({newest}); upgrade hf-s2l"
            )
        return version

    def field(
        self,
        obj: dict[str, Any],
        key: str,
        ok: Callable[[Any], bool],
        expected: str,
        where: str = "",
        optional: bool = False,
    ) -> Any:
        """``obj[key]`` if ``ok`` accepts it (``None`` if absent and ``optional``), else the
        file's error naming ``where`` + ``key``, the value, its type and what was ``expected``."""
        if key not in obj:
            if optional:
                return None
            raise self.bad(f"lacks {where}{key!r}")
        value = obj[key]
        if not ok(value):
            raise self.bad(
                f"has {where}{key!r} = {self.render(value)} ({type_name(value)}), "
                f"expected {expected}"
            )
        return value
