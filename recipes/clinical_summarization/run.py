#!/usr/bin/env python
"""Clinical summarisation recipe: radiology findings -> impression, S2L at 50%, BLEU/ROUGE-L/BERTScore.

    accelerate launch --config_file accelerate/single_gpu.yaml run.py --config configs/iu_pythia70m_to_phi2.yaml
    accelerate launch --config_file accelerate/smoke_cpu.yaml run.py --smoke   # CPU, 2 ranks (CI)

Without ``--config`` the default config is used (``configs/smoke.yaml`` with ``--smoke``).
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from common.pipeline import recipe_main  # noqa: E402


def main() -> None:
    recipe_main(HERE, "iu_pythia70m_to_phi2.yaml", task="clinical")


if __name__ == "__main__":
    main()
