"""Selection: choose a training subset from a trajectory store (S2L, LP, baselines).

``select(store, method, budget, seed=0, **params) -> Selection``; see
:func:`available_methods` for the registered methods and :func:`register_method` to add one.

Layout: ``base.py`` (the method contract), ``methods/`` (one file per built-in method),
``registry.py`` (lookup; registers the built-ins), ``engine.py`` (``select``) with its
helpers (``options``, ``stratified``, ``unscored``, ``columns``, ``quota``, ``context``),
``official.py`` (``official_lp_subset``, above the engine), ``selection.py`` (the result
and its folder format).
"""

from .base import MethodResult, MethodSpec, register_method
from .context import MethodContext
from .engine import select
from .official import official_lp_subset
from .registry import available_methods, get_method
from .selection import Selection

__all__ = [
    "MethodContext",
    "MethodResult",
    "MethodSpec",
    "Selection",
    "available_methods",
    "get_method",
    "official_lp_subset",
    "register_method",
    "select",
]
