"""Shared code of the hf-s2l recipes (the ONE place: configs, training, selection, evaluation).

One entry point runs every recipe: ``recipes/run.py CONFIG.yaml`` (:func:`.pipeline.recipe_main`);
the YAML config is the recipe (its ``task`` picks the pipeline); see ``recipes/README.md``.
"""
