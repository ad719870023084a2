"""Rebuild the demo's embedded math data from a full copy of the math mixture (run once, committed).

Usage::

    python hf_s2l/assets/math_demo/build.py --data DATA

DATA holds ``math_mix/`` with the full upstream files, laid out like ``tests/fixtures/data``.

Writes, next to this script:

- ``train.jsonl``: a fixed random sample of the math instruction mixture
  (``hf_s2l.experiments.corpora.load_math_mixture``) — 450 GSM8K train, 400 MAWPS, 400 ASDiv-A and
  250 AQuA-RAT rows — each ``{"instruction", "output", "source"}``;
- ``heldout_gsm8k.jsonl``: 200 rows of the GSM8K *test* split in the same format (the
  held-out set; never trained on);
- the upstream licence files (``LICENSE-GSM8K``, ``LICENSE-AQuA``).

The sample is deterministic (``numpy.random.default_rng(0)``).
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
PER_SOURCE = {"gsm8k": 450, "mawps": 400, "asdiv_a": 400, "aqua": 250}
HELDOUT_ROWS = 200


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    with open(path, "w") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def build(data_root: Path, out_dir: Path = HERE, seed: int = 0) -> None:
    """Sample the mixture and the held-out slice from ``data_root`` into ``out_dir``."""
    from hf_s2l.experiments.corpora.math import _gsm8k_rows, load_math_mixture

    rng = np.random.default_rng(seed)
    mix = load_math_mixture(data_root / "math_mix")
    sources = np.asarray(mix["source"])
    rows: list[dict] = []
    for source, n in PER_SOURCE.items():
        idx = np.flatnonzero(sources == source)
        pick = np.sort(rng.choice(idx, size=min(n, len(idx)), replace=False))
        rows.extend(mix[int(i)] for i in pick)
    order = rng.permutation(len(rows))
    _write_jsonl(out_dir / "train.jsonl", [rows[i] for i in order])

    test = _gsm8k_rows(data_root / "math_mix" / "gsm8k" / "test.jsonl")
    pick = np.sort(rng.choice(len(test), size=HELDOUT_ROWS, replace=False))
    _write_jsonl(out_dir / "heldout_gsm8k.jsonl", [test[int(i)] for i in pick])

    shutil.copyfile(data_root / "math_mix" / "gsm8k" / "LICENSE", out_dir / "LICENSE-GSM8K")
    shutil.copyfile(data_root / "math_mix" / "aqua" / "LICENSE", out_dir / "LICENSE-AQuA")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--data", required=True, help="folder with math_mix/ (layout of tests/fixtures/data)"
    )
    p.add_argument("--out", default=str(HERE))
    args = p.parse_args()
    build(Path(args.data), Path(args.out))


if __name__ == "__main__":
    main()
