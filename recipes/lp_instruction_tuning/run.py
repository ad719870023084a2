#!/usr/bin/env python
"""Learning Percentage recipe: OPT-350M proxy on Alpaca -> LP(1)/LP_app at 10% -> 13B target.

    accelerate launch --config_file accelerate/single_gpu.yaml run.py --config configs/alpaca_opt350m_to_opt13b.yaml
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
            str(HERE / "configs" / ("smoke.yaml" if smoke else "alpaca_opt350m_to_opt13b.yaml")),
        ] + argv
    run_recipe(argv, task="instruction")


if __name__ == "__main__":
    main()
