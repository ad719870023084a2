"""Select: choose a training subset from a trajectory store (S2L, LP, baselines).

``select(store, method, budget, seed=0, **params) -> Selection``; see
:func:`available_methods` for the registered methods and :func:`register_method` to add one.
"""

import sys
import types

from .registry import (
    MethodContext,
    MethodResult,
    MethodSpec,
    available_methods,
    get_method,
    register_method,
    select,
)
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


class _CallableModule(types.ModuleType):
    """``hf_s2l.select`` is both this sub-package and the :func:`select` function: once the
    sub-package is imported it shadows the lazy ``hf_s2l.select`` attribute, so calling the
    module calls :func:`select`."""

    def __call__(self, *args, **kwargs) -> Selection:
        return select(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
