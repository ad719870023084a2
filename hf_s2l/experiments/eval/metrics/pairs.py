"""The one ``evaluate.Metric`` skeleton of the shipped metrics: string predictions against
one string reference each.

A metric module (``<name>/<name>.py``, loaded by path with ``evaluate.load``) subclasses
:class:`StringPairMetric`, sets ``DESCRIPTION``, ``CITATION`` and ``KWARGS_DESCRIPTION`` and
writes ``_compute``. Modules import this module, not the class: ``evaluate`` takes the first
``evaluate.Metric`` subclass it finds in a metric module's namespace as the metric.
"""

from __future__ import annotations

from typing import Any, ClassVar

import datasets
import evaluate

PAIR_FEATURES = datasets.Features(
    {"predictions": datasets.Value("string"), "references": datasets.Value("string")}
)


class StringPairMetric(evaluate.Metric):
    """An ``evaluate.Metric`` over ``predictions``/``references`` string pairs."""

    DESCRIPTION: ClassVar[str] = ""
    CITATION: ClassVar[str] = ""
    KWARGS_DESCRIPTION: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # what evaluate's add_start_docstrings decorator did to each metric class
        cls.__doc__ = cls.DESCRIPTION + cls.KWARGS_DESCRIPTION + (cls.__doc__ or "")

    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description=self.DESCRIPTION,
            citation=self.CITATION,
            inputs_description=self.KWARGS_DESCRIPTION,
            features=PAIR_FEATURES,
        )
