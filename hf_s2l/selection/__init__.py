"""Selection: choose a training subset from a trajectory store (S2L, LP, baselines).

``select(store, method, budget, seed=0, **params) -> Selection``; see
:func:`available_methods` for the registered methods and :func:`register_method` to add one.
"""

from .context import MethodContext
from .registry import MethodResult, MethodSpec, available_methods, get_method, register_method
from .runner import select
from .selection import Selection

__all__ = [
    "MethodContext",
    "MethodResult",
    "MethodSpec",
    "Selection",
    "available_methods",
    "get_method",
    "register_method",
    "select",
]
