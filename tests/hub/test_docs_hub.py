"""docs/hub.md runs as written: its Python blocks and ``hf-s2l`` lines, in order, against the
in-process Hub stand-in (``conftest.VersionedHub``), from a folder holding the store the doc
assumes (``proxy-run/trajectories`` recorded from ``train.jsonl`` with ids and sources)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import numpy as np
import pytest

from hf_s2l import TrajectoryStore, add_example_ids
from hf_s2l.cli import main
from hf_s2l.hub import parse_card
from hf_s2l.selection import Selection

from ..data.helpers import make_store, raw_dataset

DOC = Path(__file__).resolve().parents[2] / "docs" / "hub.md"


def _blocks(text: str) -> list[tuple[str, str]]:
    return [(m[1], m[2]) for m in re.finditer(r"^```(\w+)\n(.*?)^```$", text, re.S | re.M)]


@pytest.mark.slow  # ~15-20 s: pushes, selects and builds a report end to end
def test_docs_hub_examples_run(hub, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    raw = add_example_ids(raw_dataset(30))
    raw.to_json("train.jsonl", lines=True)
    proxy = raw.map(lambda r: {"input_ids": [len(r["question"]) % 97, 1]})
    store = make_store(Path("proxy-run/trajectories"), proxy)
    TrajectoryStore.open(store.path, "r+").set_metadata("source", np.array(proxy["source"]))

    blocks = [(lang, code) for lang, code in _blocks(DOC.read_text()) if lang in ("python", "bash")]
    assert [lang for lang, _ in blocks] == ["python", "python", "bash", "python", "bash"]
    for lang, code in blocks:
        if lang == "python":
            exec(compile(code, str(DOC), "exec"), {"__name__": "__docs__"})
            continue
        for line in code.splitlines():
            assert line.startswith("hf-s2l "), line
            assert main(shlex.split(line)[1:]) == 0, line

    # what the doc promises happened
    assert {"README.md", "meta.json", "losses.npy"} <= set(hub.repos["me/math-proxy-trajectories"])
    assert Selection.load("selection-s2l-30").store_fingerprint == store.fingerprint
    assert Path("report-random-30/index.html").is_file()
    meta, _ = parse_card(hub.repos["me/math-s2l-30"]["README.md"].decode())
    assert meta["hf_s2l"]["method"] == "s2l" and meta["hf_s2l"]["counts"]["source"]
    assert Path("math-s2l-30/README.md").is_file()
