#!/usr/bin/env python
"""Selected-vs-full comparison of a finished LP recipe run (reads ``results.json``).

python compare.py --output_dir outputs/lp_alpaca_opt350m_to_opt13b [--baseline full]
"""

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common.results import compare_runs  # noqa: E402


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output_dir", required=True, help="the recipe run's output_dir")
    parser.add_argument("--baseline", default="full", help="run to compare against")
    args = parser.parse_args(argv)
    path = Path(args.output_dir) / "results.json"
    if not path.is_file():
        raise SystemExit(f"{path} not found: run the recipe's eval stage first")
    table = compare_runs(json.loads(path.read_text()), baseline=args.baseline)
    (Path(args.output_dir) / "comparison.md").write_text(table)
    print(table)
    return table


if __name__ == "__main__":
    main()
