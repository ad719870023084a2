"""Helper modules of ``benchmarks/data_efficiency.py``: planning (config), preparing
(prepare), running (running, evaluation, grid), caching (cache); statistics (stats, summary),
tables, figures and the generated docs text (premise, docs_v2, docs_headline)."""
