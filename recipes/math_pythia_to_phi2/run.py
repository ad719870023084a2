#!/usr/bin/env python
"""S2L math recipe: Pythia proxy on MathInstruct -> S2L selection -> Phi-2 -> zero-shot math eval.

    accelerate launch --config_file accelerate/single_gpu.yaml run.py --config configs/pythia70m_to_phi2.yaml
    accelerate launch --config_file accelerate/smoke_cpu.yaml run.py --smoke   # CPU, 2 ranks (CI)

Without ``--config`` the default config is used (``configs/smoke.yaml`` with ``--smoke``).
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from common.pipeline import recipe_main  # noqa: E402


def main() -> None:
    recipe_main(HERE, "pythia70m_to_phi2.yaml", task="math")


if __name__ == "__main__":
    main()
