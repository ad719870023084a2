#!/usr/bin/env python
"""Learning Percentage recipe: OPT-350M proxy on Alpaca -> LP(1)/LP_app at 10% -> 13B target.

    accelerate launch --config_file accelerate/single_gpu.yaml run.py --config configs/alpaca_opt350m_to_opt13b.yaml
    accelerate launch --config_file accelerate/smoke_cpu.yaml run.py --smoke   # CPU, 2 ranks (CI)

Without ``--config`` the default config is used (``configs/smoke.yaml`` with ``--smoke``).
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from common.pipeline import recipe_main  # noqa: E402


def main() -> None:
    recipe_main(HERE, "alpaca_opt350m_to_opt13b.yaml", task="instruction")


if __name__ == "__main__":
    main()
