"""Helper modules of ``benchmarks/data_efficiency.py`` (v2): pools, statistics, report."""
