#!/usr/bin/env python
"""Run a recipe: the recipe is its config (``task:`` in the YAML picks the pipeline).

    cd recipes/math_pythia_to_phi2
    accelerate launch --config_file accelerate/single_gpu.yaml ../run.py configs/pythia70m_to_phi2.yaml
    accelerate launch --config_file accelerate/smoke_cpu.yaml ../run.py configs/smoke.yaml   # CPU, 2 ranks

Any config value can be overridden after the config (``--stages target eval``,
``--proxy_model /models/pythia-70m``); ``--config FILE`` works as well as the positional
file. The recipes' configs are ``recipes/<recipe>/configs/*.yaml`` (see recipes/README.md).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common.pipeline import recipe_main  # noqa: E402


def main() -> None:
    recipe_main(sys.argv[1:])


if __name__ == "__main__":
    main()
