"""``hf-s2l demo --fast`` end to end, the embedded data, and the held-out loss helper."""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path

import pytest

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_embedded_demo_data_is_small_real_and_attributed():
    from hf_s2l.experiments.demo import demo_data_dir

    d = demo_data_dir()
    train = [json.loads(x) for x in (d / "train.jsonl").read_text().splitlines()]
    held = [json.loads(x) for x in (d / "heldout_gsm8k.jsonl").read_text().splitlines()]
    assert len(train) == 1500 and len(held) == 200
    assert {r["source"] for r in train} == {"gsm8k", "mawps", "asdiv_a", "aqua"}
    assert all(set(r) == {"instruction", "output", "source"} for r in train)
    assert all(r["output"].rstrip().endswith(".") and "The answer is" in r["output"] for r in held)
    # held-out rows never appear in the training sample
    assert not {r["instruction"] for r in held} & {r["instruction"] for r in train}
    for name in ("LICENSE-GSM8K", "LICENSE-AQuA", "README.md", "build.py"):
        assert (d / name).is_file(), name
    readme = (d / "README.md").read_text()
    for src in ("GSM8K", "AQuA", "MAWPS", "ASDiv"):
        assert src in readme
    assert sum(p.stat().st_size for p in d.iterdir()) < 2_000_000


def test_answer_token_loss_matches_per_example_model_loss():
    import torch

    from hf_s2l.experiments.demo import answer_token_loss
    from hf_s2l.experiments.tiny import tiny_model

    torch.manual_seed(0)
    model = tiny_model(family="gpt_neox", vocab_size=64, hidden_size=16, num_layers=1, num_heads=2)
    rows = []
    for n, p in [(7, 3), (12, 5), (4, 1), (9, 9)]:  # last row: no target token
        ids = torch.randint(3, 64, (n,)).tolist()
        rows.append({"input_ids": ids, "labels": [-100] * p + ids[p:]})
    data = {"input_ids": [r["input_ids"] for r in rows], "labels": [r["labels"] for r in rows]}
    got = answer_token_loss(model, data, batch_size=3, disable_progress=True)
    total, tokens, means = 0.0, 0, []
    with torch.no_grad():
        for r in rows[:3]:
            x, y = torch.tensor([r["input_ids"]]), torch.tensor([r["labels"]])
            loss = float(model(input_ids=x, labels=y).loss)
            k = sum(1 for v in r["labels"][1:] if v != -100)
            total, tokens = total + loss * k, tokens + k
            means.append(loss)
    assert got["tokens"] == tokens and got["examples"] == 3
    assert got["loss"] == pytest.approx(total / tokens, rel=1e-5)
    assert got["example_mean_loss"] == pytest.approx(sum(means) / 3, rel=1e-5)
    assert model.training  # training mode restored


def test_heldout_split_is_fixed_per_source_and_disjoint():
    from hf_s2l.experiments.demo import demo_data_dir
    from hf_s2l.experiments.demo.data import _read_jsonl, split_heldout

    rows = _read_jsonl(demo_data_dir() / "train.jsonl", None)
    train, held = split_heldout(rows, 0.1)
    assert len(train) + len(held) == len(rows)
    per = {s: sum(r["source"] == s for r in rows) for s in {r["source"] for r in rows}}
    for src, n in per.items():  # 10% of every source, rounded
        assert sum(r["source"] == src for r in held) == round(0.1 * n)
    assert not {id(r) for r in train} & {id(r) for r in held}
    again, held2 = split_heldout(rows, 0.1)  # fixed: independent of any run seed
    assert held2 == held and again == train


@pytest.mark.slow
def test_demo_fast_end_to_end(tmp_path, capsys):
    """What CI runs: the CLI demo with --fast; every output exists and parses."""
    import matplotlib.image as mpimg

    from hf_s2l import TrajectoryStore
    from hf_s2l.cli import main

    out = tmp_path / "demo"
    assert main(["demo", "--fast", "--out", str(out), "--no-progress", "--threads", "2"]) == 0
    captured = capsys.readouterr()
    printed = captured.out
    # the output folder is named first, before any training
    assert printed.splitlines()[0] == f"hf-s2l demo: writing everything to {out.resolve()}"
    # the Trainer's raw log dicts are not printed (progress bars are kept when enabled)
    assert "train_runtime" not in printed + captured.err
    assert "| method |" in printed and "report:" in printed
    # one sentence says what was measured and what it does not show
    summary = next(line for line in printed.splitlines() if line.startswith("Measured:"))
    assert "held-out 10% of every source" in summary and "not shown" in summary
    assert "vs random by source" in summary and "from-scratch" in summary

    res = json.loads((out / "results.json").read_text())
    assert res["failures"] == {}
    assert res["summary"] == summary
    methods = [r["method"] for r in res["results"]]
    assert methods == ["s2l", "random_by_source", "random", "lp", "full"]
    assert res["config"]["proxy_epochs"] == 3 and res["config"]["target_epochs"] == 3
    assert res["config"]["lr_scheduler_type"] == "cosine"
    n = res["data"]["train_examples"]
    assert res["data"]["heldout_examples"] == 32  # 10% of each source of the 320 rows
    assert n + res["data"]["train_examples_without_answer_tokens_left_out"] == 320 - 32
    for r in res["results"]:
        assert r["heldout_loss"] > 0 and r["gsm8k_test_loss"] > 0 and r["train_seconds"] >= 0
        expected = n if r["method"] == "full" else round(0.3 * n)
        assert r["examples"] == expected
        assert sum(r["per_source"].values()) == r["examples"]
    by = {r["method"]: r["per_source"] for r in res["results"]}
    assert by["random_by_source"] == by["s2l"]  # the control has S2L's per-source counts
    assert res["target"]["parameters"] > res["proxy"]["parameters"]

    # the store names its proxy (the report showed "proxy model: -")
    store = TrajectoryStore.open(out / "proxy" / "trajectories")
    assert store.model_name_or_path and "tiny GPT-NeoX proxy" in store.model_name_or_path
    assert res["proxy"]["model_name_or_path"] == store.model_name_or_path
    assert store.num_columns == 1 + 6  # step 0 + the fast config's 6 points

    md = (out / "results.md").read_text()
    rows = [line for line in md.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == 1 + 5  # header + one row per method
    assert all(re.search(r"\| \d+\.\d{4} \|", row) for row in rows[1:])
    assert all("gsm8k" in row for row in rows[1:])  # per-source counts
    assert summary in md

    report = Path(res["report"])
    html = report.read_text()
    assert "tiny GPT-NeoX proxy" in html
    # results.md and the report show one comparison table (issue 28.5): same cells, same notes
    part = html.split("<h2>Method comparison</h2>", 1)[1].split("</table>", 1)[0]
    page_rows = [
        [unescape(c) for c in re.findall(r"<t[hd]>(.*?)</t[hd]>", tr, re.S)]
        for tr in re.findall(r"<tr>(.*?)</tr>", part, re.S)
    ]
    md_rows = [[c.strip() for c in ln.strip().strip("|").split(" | ")] for ln in rows]
    assert page_rows == md_rows
    assert md_rows[0][:5] == [
        "method",
        "examples",
        "per source",
        "held-out loss (lower is better)",
        "vs random",
    ]
    assert md_rows[0][-3:] == ["seed", f"proxy loss at step {store.steps[-1]}", "unscored rows"]
    for note in ("Lower is better for held-out loss", "negative = better than random"):
        assert note in md and note in html
    pngs = re.findall(r"src='([^']+\.png)'", html)
    assert {"trajectories.png", "cluster_sizes.png", "groups.png", "lp.png", "data_map.png"} <= set(
        pngs
    )
    for name in pngs:
        p = report.parent / name
        assert p.read_bytes()[:8] == PNG_MAGIC
        assert mpimg.imread(p).ndim == 3
    for sub in ("s2l", "random_by_source", "lp", "random"):
        assert (out / "selections" / sub / "indices.npy").is_file()
    assert (out / "proxy" / "trajectories" / "losses.npy").is_file()


@pytest.mark.slow
def test_demo_progress_bars_without_log_dicts(tmp_path, capfd):
    """With progress bars on, the Trainer's bars are shown but not its raw dicts."""
    from hf_s2l.experiments.demo import DemoConfig, run_demo

    cfg = DemoConfig.fast(
        out_dir=str(tmp_path / "d"), methods=("random",), max_train_examples=120, num_threads=2
    )
    run_demo(cfg, progress=print)
    cap = capfd.readouterr()
    both = cap.out + cap.err
    assert "it/s" in both or "s/it" in both  # tqdm bars were drawn
    assert "train_runtime" not in both and "{'" not in both


@pytest.mark.parametrize("fast", [False, True])
def test_demo_target_is_at_least_4x_the_proxy(fast):
    """The benchmark's protocol: target >= 4x the proxy's parameters (default and --fast)."""
    from hf_s2l.experiments.demo import DemoConfig
    from hf_s2l.experiments.tiny import tiny_model

    cfg = DemoConfig.fast() if fast else DemoConfig()
    assert cfg.proxy_epochs == cfg.target_epochs == 3
    vocab = cfg.vocab_size

    def params(h, layers, heads):
        m = tiny_model(
            family="gpt_neox", vocab_size=vocab, hidden_size=h, num_layers=layers, num_heads=heads
        )
        return sum(p.numel() for p in m.parameters())

    proxy = params(cfg.proxy_hidden_size, cfg.proxy_layers, cfg.proxy_heads)
    target = params(cfg.target_hidden_size, cfg.target_layers, cfg.target_heads)
    assert target >= 4 * proxy
