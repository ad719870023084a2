#!/usr/bin/env python
"""Clinical summarisation recipe: radiology findings -> impression, S2L at 50%, BLEU/ROUGE-L/BERTScore.

    accelerate launch --config_file accelerate/single_gpu.yaml run.py --config configs/iu_pythia70m_to_phi2.yaml
    accelerate launch --num_processes 2 --cpu run.py --smoke     # CPU smoke run (CI)

Without ``--config`` the default config is used (``configs/smoke.yaml`` with ``--smoke``).
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from common.pipeline import run_recipe  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not any(a == "--config" or a.startswith("--config=") for a in argv):
        smoke = any(a == "--smoke" or a.startswith("--smoke=") for a in argv)
        argv = [
            "--config",
            str(HERE / "configs" / ("smoke.yaml" if smoke else "iu_pythia70m_to_phi2.yaml")),
        ] + argv
    run_recipe(argv, task="clinical")


if __name__ == "__main__":
    main()
