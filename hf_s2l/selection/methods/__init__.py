"""The built-in selection methods, one file each; importing this package registers them.

A new method: one file here (a function decorated with
:func:`~hf_s2l.selection.base.register_method`, importing only the selection's shared
modules — ``base``, ``context``, ``columns``, ``quota``, ``_common`` … — never the engine)
plus one line below.
"""

from . import (  # noqa: F401  (each module registers its method on import)
    cartography,
    curriculum,
    facility_location,
    high_learnability,
    learning_percentage,
    least_confidence,
    middle_perplexity,
    random,
    s2l,
)
