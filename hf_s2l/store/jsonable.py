"""The one JSON helper: numpy/Path values to plain JSON types (store layer: stdlib + numpy).

* :func:`json_default` — a ``json.dumps(default=...)`` hook: numpy integers/floats -> ``int`` /
  ``float``, arrays -> lists, ``pathlib.Path`` -> ``str``; anything else raises ``TypeError``
  (what ``store.trajectory_store._json_default`` and ``selection.selection._jsonable`` did).
* :func:`to_jsonable` — a plain copy of a whole value:

  - ``arrays="list"`` (default): a JSON round trip with numpy scalars -> ``.item()``, arrays ->
    lists, tuples -> lists, and ``fallback`` for anything else (``"str"``: ``data/card.py``
    ``_plain``);
  - ``arrays="summary"``: arrays and lists/tuples longer than :data:`MAX_LIST` become
    ``{"array": shape, "dtype", "sha1"}``; recursive; ``fallback="repr"`` for the rest
    (``selection/provenance.py`` ``jsonable``; a numpy bool is not a number there: it gets the
    fallback, as before);
  - ``recurse=False``: ``None``/bool/int/float/str kept as they are, anything else
    ``fallback`` (``record/callback.py`` ``_plain``).

``data/ids.py`` keeps its own hook: example ids hash its canonical JSON, byte for byte.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

import numpy as np

MAX_LIST = 64

__all__ = ["MAX_LIST", "json_default", "to_jsonable"]


def json_default(obj: Any) -> Any:
    """``json.dumps`` hook: numpy scalars and arrays, and paths; ``TypeError`` otherwise."""
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj)}")


def _fallback(kind: str) -> Any:
    if kind == "str":
        return str
    if kind == "repr":
        return repr
    if kind == "error":

        def fail(o: Any) -> Any:
            raise TypeError(f"not JSON serialisable: {type(o)}")

        return fail
    raise ValueError(f"fallback must be 'str', 'repr' or 'error', got {kind!r}")


def _summary(value: Any, fallback: Any) -> Any:
    if isinstance(value, np.ndarray) or (
        isinstance(value, (list, tuple)) and len(value) > MAX_LIST
    ):
        arr = np.asarray(value)
        digest = hashlib.sha1(np.ascontiguousarray(arr).tobytes()).hexdigest()[:12]
        return {"array": list(arr.shape), "dtype": str(arr.dtype), "sha1": digest}
    if isinstance(value, (list, tuple)):
        return [_summary(v, fallback) for v in value]
    if isinstance(value, dict):
        return {str(k): _summary(v, fallback) for k, v in value.items()}
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return fallback(value)


def to_jsonable(
    obj: Any,
    *,
    arrays: Literal["list", "summary"] = "list",
    fallback: Literal["str", "repr", "error"] | None = None,
    recurse: bool = True,
) -> Any:
    """A JSON-safe copy of ``obj`` (see the module docstring for the modes).

    ``fallback`` (what a value of another type becomes) defaults to ``"str"`` for
    ``arrays="list"`` and ``"repr"`` for ``arrays="summary"``.
    """
    if arrays not in ("list", "summary"):
        raise ValueError(f"arrays must be 'list' or 'summary', got {arrays!r}")
    fb = _fallback(fallback or ("repr" if arrays == "summary" else "str"))
    if not recurse:
        if obj is None or isinstance(obj, (bool, int, float, str)):
            return obj
        return fb(obj)
    if arrays == "summary":
        return _summary(obj, fb)

    def default(o: Any) -> Any:
        if isinstance(o, np.generic):
            return o.item()
        if isinstance(o, np.ndarray):
            return o.tolist()
        return fb(o)

    return json.loads(json.dumps(obj, default=default))
