"""Report: an HTML page with PNG plots of a trajectory store and, optionally, a selection.

``build_report(store, selection=None, out=...)`` or ``hf-s2l report STORE --out DIR``.
"""

from .builder import FigureInfo, Report, build_report

__all__ = ["FigureInfo", "Report", "build_report"]
