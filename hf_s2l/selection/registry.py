"""The registry of selection methods: :func:`available_methods` and :func:`get_method`.

Importing this module registers the built-in methods (``from . import methods``: one file per
method, each registering itself with :func:`~hf_s2l.selection.base.register_method`); users
add theirs the same way. The contract (``MethodResult``, ``MethodSpec``, ``register_method``,
``build_config``, ``check_result``) lives in :mod:`hf_s2l.selection.base` and is re-exported.
"""

from __future__ import annotations

from . import methods  # noqa: F401  (registers the built-in methods)
from .base import (
    _REGISTRY,
    MethodResult,
    MethodSpec,
    build_config,
    check_result,
    register_method,
)
from .context import MethodContext

__all__ = [
    "MethodContext",
    "MethodResult",
    "MethodSpec",
    "available_methods",
    "build_config",
    "check_result",
    "get_method",
    "register_method",
]


def available_methods() -> list[str]:
    """Names of all registered selection methods (built-in and user-registered)."""
    return sorted(_REGISTRY)


def get_method(name: str) -> MethodSpec:
    """The :class:`~hf_s2l.selection.base.MethodSpec` registered under ``name``."""
    if name not in _REGISTRY:
        raise ValueError(
            f"unknown selection method {name!r}; available: {', '.join(sorted(_REGISTRY))}"
        )
    return _REGISTRY[name]
