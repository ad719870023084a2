"""Shared code of the hf-s2l recipes (the ONE place: configs, training, selection, evaluation).

Every recipe's ``run.py`` is ``run_recipe(task=..., argv=sys.argv[1:])`` with a YAML config;
see ``recipes/README.md``.
"""
