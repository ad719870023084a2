"""The data-efficiency benchmark's new pure logic: transfer figures (on real constructed
stores laid out as the benchmark keeps them), their reading, the headline/transfer docs
sections and ``write_docs`` replacing only its own block. Fast: no training."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def de():
    """The benchmark's package ``_data_efficiency`` (benchmarks/ is not a package)."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        import _data_efficiency.cache as cache
        import _data_efficiency.config as config
        import _data_efficiency.docs_headline as docs_headline
        import _data_efficiency.docs_v2 as docs_v2
        import _data_efficiency.methods as methods
        import _data_efficiency.premise as premise
        import _data_efficiency.summary as summary
        import _data_efficiency.tables as tables
        import _data_efficiency.transfer as transfer
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    return type(
        "DE",
        (),
        {
            "cache": cache,
            "config": config,
            "docs_headline": docs_headline,
            "docs_v2": docs_v2,
            "methods": methods,
            "premise": premise,
            "summary": summary,
            "tables": tables,
            "transfer": transfer,
        },
    )


# ------------------------------------------------------------------ arithmetic
def test_transfer_position(de):
    pos = de.premise.transfer_position
    assert pos(0.5, 0.0, 1.0) == pytest.approx(0.5)
    assert pos(0.77, -0.02, 0.97) == pytest.approx(0.79 / 0.99)
    assert pos(1.2, 0.0, 1.0) == pytest.approx(1.2)  # above the ceiling: > 1, not clipped
    assert math.isnan(pos(0.5, 0.3, 0.3))  # no room between floor and ceiling
    assert math.isnan(pos(0.5, 0.6, 0.3))
    assert math.isnan(pos(None, 0.0, 1.0))
    assert math.isnan(pos(0.5, float("nan"), 1.0))


def _fig(rho, ve, rnd, k=20):
    return {
        "spearman": rho,
        "variance_explained": ve,
        "variance_explained_random": rnd,
        "lp_hardest_overlap": None,
        "k": k,
        "n_aligned": 100,
        "verdict": "",
    }


HOLDS = {
    "proxy": _fig(0.90, 0.80, 0.10),
    "ceiling": _fig(0.95, 0.90, 0.10),
    "floor": _fig(0.00, 0.10, 0.10),
}
FAILS = {
    "proxy": _fig(0.10, 0.15, 0.10),
    "ceiling": _fig(0.95, 0.90, 0.10),
    "floor": _fig(0.00, 0.10, 0.10),
}
PARTLY = {
    "proxy": _fig(0.50, 0.50, 0.10),
    "ceiling": _fig(0.95, 0.90, 0.10),
    "floor": _fig(0.00, 0.10, 0.10),
}


def test_premise_status(de):
    st = de.premise.premise_status
    status, rank, clus = st(HOLDS)
    assert status == "holds"
    assert rank == pytest.approx(0.9 / 0.95)
    assert clus == pytest.approx(0.7 / 0.8)  # margins 0.7 (proxy), 0 (floor), 0.8 (ceiling)
    assert st(FAILS)[0] == "fails"
    assert st(PARTLY)[0] == "partly"
    # high ranks but clusters that carry nothing over: not "holds"
    mixed = dict(HOLDS, proxy=_fig(0.9, 0.12, 0.10))
    assert st(mixed)[0] == "partly"
    assert st({"proxy": HOLDS["proxy"]})[0] == "unknown"
    assert st(dict(HOLDS, floor={"error": "boom"}))[0] == "unknown"


def test_premise_reading_ties_the_transfer_to_the_s2l_result(de):
    read = de.premise.premise_reading
    h = read("mix", HOLDS, {"random": "within noise", "random_by_source": "worse"})
    assert "premise holds" in h and "it is the method" in h
    assert "Spearman 0.90" in h and "80% for random" not in h
    f = read("mix", FAILS, {"random": "within noise"})
    assert "premise fails" in f and "premise, not the selection rule" in f
    p = read("mix", PARTLY, {"random": "within noise"})
    assert "only in part" in p and "cannot separate" in p
    b = read("mix", HOLDS, {"random": "better"})
    assert "S2L beats random" in b
    assert "S2L does" not in read("mix", HOLDS)  # no S2L verdicts given: transfer only
    assert "incomplete" in read("mix", {"proxy": HOLDS["proxy"]})


def test_premise_reading_in_step_rows(de):
    figs = dict(
        HOLDS,
        proxy_in_step=_fig(0.6, 0.5, 0.1),
        ceiling_in_step=_fig(0.7, 0.6, 0.1),
        proxy_in_step_same_order=_fig(0.97, 0.9, 0.1),
    )
    txt = de.premise.premise_reading("mix", figs)
    assert "in-step ceiling" in txt and "Spearman 0.60 vs 0.70" in txt
    assert "carry the data order" in txt and "0.97" in txt
    same = dict(figs, proxy_in_step_same_order=_fig(0.61, 0.5, 0.1))
    assert "data order hardly matters" in de.premise.premise_reading("mix", same)
    assert "another run of the target" not in txt
    txt = de.premise.premise_reading("mix", dict(figs, target_seeds=_fig(0.88, 0.7, 0.1)))
    assert "as well as another run of the target" in txt and "Spearman 0.88" in txt
    txt = de.premise.premise_reading("mix", dict(figs, target_seeds=_fig(0.99, 0.7, 0.1)))
    assert "less well than another run of the target" in txt


def test_transfer_table(de):
    figs = dict(HOLDS, proxy=dict(HOLDS["proxy"], lp_hardest_overlap=0.25))
    figs["target_seeds"] = {"error": "TransferAlignmentError('x')"}
    t = de.tables.transfer_table(figs).splitlines()
    assert t[0].startswith("| stores | Spearman")
    labels = [line.split("|")[1].strip() for line in t[2:]]
    assert labels == [
        "proxy → target",
        "ceiling: proxy → proxy of another seed",
        "floor: proxy → shuffled target",
        "target → target of another seed",
    ]  # transfer.ROWS order; absent rows skipped
    assert "| 0.90 | 0.80 | 0.10 | +0.70 | 0.25 |" in t[2]
    assert t[3].endswith("| n/a |")  # no LP overlap
    assert "failed: TransferAlignmentError" in t[5]


# ------------------------------------------------------------------ docs blocks
def test_write_docs_replaces_only_its_own_block(de, tmp_path):
    r = de.docs_v2
    docs = tmp_path / "benchmarks.md"
    v2 = f"{r.DOCS_START}\nv2 text kept\n{r.DOCS_END}\n"
    docs.write_text(f"# Benchmarks\n\nintro\n\n{v2}\n## Later section\n\nlater\n")
    head = f"{r.HEADLINE_START}\nheadline one\n{r.HEADLINE_END}\n"
    r.write_docs(head, docs, r.HEADLINE_START, r.HEADLINE_END)
    text = docs.read_text()
    # inserted right after the v2 block, before the later section; v2 untouched
    assert text.index("v2 text kept") < text.index("headline one") < text.index("## Later")
    trans = f"{r.TRANSFER_START}\ntransfer one\n{r.TRANSFER_END}\n"
    r.write_docs(trans, docs, r.TRANSFER_START, r.TRANSFER_END)
    text = docs.read_text()
    assert text.index("headline one") < text.index("transfer one") < text.index("## Later")
    # a rewrite replaces its block in place, once
    r.write_docs(head.replace("one", "two"), docs, r.HEADLINE_START, r.HEADLINE_END)
    text = docs.read_text()
    assert "headline one" not in text and text.count("headline two") == 1
    assert text.count(r.HEADLINE_START) == 1 and "v2 text kept" in text and "later" in text
    assert text.startswith("# Benchmarks\n\nintro\n")
    with pytest.raises(ValueError, match="must start with"):
        r.write_docs(head, docs, r.TRANSFER_START, r.TRANSFER_END)


def test_write_docs_appends_without_any_block(de, tmp_path):
    r = de.docs_v2
    docs = tmp_path / "b.md"
    docs.write_text("# Benchmarks\n\nonly text\n")
    r.write_docs(
        f"{r.TRANSFER_START}\nx\n{r.TRANSFER_END}\n", docs, r.TRANSFER_START, r.TRANSFER_END
    )
    assert (
        docs.read_text()
        == f"# Benchmarks\n\nonly text\n\n{r.TRANSFER_START}\nx\n{r.TRANSFER_END}\n"
    )


# ------------------------------------------------------------------ configuration, plan
def test_headline_config_and_plan(de):
    cfg = de.config.BenchConfig.headline()
    assert cfg.pools == ("mix",) and cfg.budgets == (0.1, 0.3) and len(cfg.seeds) >= 5
    assert cfg.epochs == 3  # the protocol's length (v3 trained the target 1 epoch)
    assert set(cfg.methods) == {
        "random",
        "random_by_source",
        "s2l",
        "s2l_pooled",
        "s2l_in_step",
        "lp",
        "random_proportional",
        "s2l_proportional",
    }
    assert len(cfg.proxy_seeds) == 2 and cfg.proxy_seeds[0] == 0
    tasks = de.config.plan(cfg, {"mix": True})
    assert len(tasks) == 5 + 8 * 5 * 2 and len(set(tasks)) == len(tasks)
    # two budgets: every full-data run first, then 10% (all seeds), then 30%
    assert [t[1] for t in tasks[:5]] == ["full"] * 5
    assert [t[2] for t in tasks[5:]] == [0.1] * 40 + [0.3] * 40
    one = de.config.BenchConfig(pools=("mix",), budgets=(0.3,), seeds=(0, 1), methods=cfg.methods)
    tasks = de.config.plan(one, {"mix": True})
    # one budget: seed by seed, each seed's full-data run first
    assert [t[3] for t in tasks] == [s for s in one.seeds for _ in range(9)]
    assert [t[1] for t in tasks[:9]] == ["full", *cfg.methods]
    grid = de.config.plan(
        de.config.BenchConfig(seeds=(0, 1)), {"mix": True, "gsm8k": False, "radiology": False}
    )
    assert [t[1] for t in grid[:6]] == ["full"] * 6  # several budgets: full data first
    assert [t[2] for t in grid[6:]] == sorted(t[2] for t in grid[6:])  # then budget-major
    only = de.config.plan(de.config.BenchConfig(), {"mix": True, "gsm8k": False}, True)
    assert only == [
        ("mix", "full", 1.0, 0),
        ("gsm8k", "full", 1.0, 0),
        ("radiology", "full", 1.0, 0),
        ("mix", "full", 1.0, 1),
        ("gsm8k", "full", 1.0, 1),
        ("radiology", "full", 1.0, 1),
    ]


def test_full_vs_random(de):
    res = {
        "runs": [
            {"pool": "mix", "method": "full", "budget": 1.0, "seed": s, "metrics": {"h": v}}
            for s, v in [(0, 3.0), (1, 3.2)]
        ]
        + [
            {"pool": "mix", "method": "random", "budget": 0.3, "seed": s, "metrics": {"h": v}}
            for s, v in [(0, 4.0), (1, 4.1)]
        ]
    }
    iv = de.summary.full_vs_random(res, "mix", "h", 0.3)
    assert iv.n == 2 and iv.mean == pytest.approx(-0.95)
    assert de.summary.full_vs_random(res, "mix", "h", 0.5) is None


# ------------------------------------------------------------------ figures on real stores
def _store(path: Path, start, speed, steps, ids, *, noise=0.0, seed=1, kinds="point"):
    from hf_s2l.store import TrajectoryStore

    rng = np.random.default_rng(seed)
    n, total = len(start), max(steps)
    with TrajectoryStore.create(path, n, dataset_fingerprint="fp", example_ids=ids) as store:
        for j, s in enumerate([0, *steps]):
            kind = "train_begin" if j == 0 else kinds
            c = store.add_column(global_step=s, epoch=float(j), kind=kind)
            vals = start * np.exp(-speed * s / total) + rng.normal(0, noise, n)
            store.write(c, np.arange(n), vals.astype(np.float32))
            store.mark_complete(c)


def test_pool_transfer_on_the_benchmark_layout(de, tmp_path):
    rng = np.random.default_rng(0)
    n = 240
    g = rng.integers(0, 6, n)
    start = 2.0 + 0.5 * g + rng.normal(0, 0.05, n)
    speed = 0.5 + (g % 3) + rng.normal(0, 0.05, n)
    ids = np.array([f"mix-{i:05d}" for i in range(n)])
    out = tmp_path / "out"
    rt = de.cache
    _store(rt.proxy_dir(out, "mix", 0) / "trajectories", start, speed, [10, 20, 30, 40], ids)
    _store(
        rt.proxy_dir(out, "mix", 1) / "trajectories", start, speed, [10, 20, 30, 40], ids, seed=3
    )
    _store(rt.target_store_dir(out, "mix", 0), start, speed, [100, 200, 300], ids, noise=0.02)
    figs = de.transfer.pool_transfer(out, "mix", k=6, proxy_seeds=(0, 1), seeds=(0, 1))
    assert set(figs) == {"proxy", "ceiling", "floor"}  # no in-step stores, one target seed
    assert figs["proxy"]["spearman"] > 0.9 and figs["ceiling"]["spearman"] > 0.9
    assert abs(figs["floor"]["spearman"]) < 0.2  # ids permuted: no relation left
    assert figs["proxy"]["variance_explained"] > figs["proxy"]["variance_explained_random"] + 0.5
    assert de.premise.premise_status(figs)[0] == "holds"
    assert (out / "mix" / "transfer.json").exists()
    # the shuffled copy is a copy: the target store itself keeps its ids
    from hf_s2l.store import TrajectoryStore

    assert list(TrajectoryStore.open(rt.target_store_dir(out, "mix", 0)).example_ids) == list(ids)
    # nothing recorded for a pool: no figures, no file
    assert de.transfer.pool_transfer(out, "gsm8k", k=6, proxy_seeds=(0, 1), seeds=(0,)) == {}


def test_reported_seeds(de):
    cfg = de.config.BenchConfig(budgets=(0.1, 0.3), seeds=(0, 1, 2))
    assert de.config.reported_seeds(cfg, []) == ([], {0.1: [0, 1, 2], 0.3: [0, 1, 2]})
    missing = [("mix", "s2l", 0.3, 2), ("gsm8k", "random", 0.3, 1)]
    assert de.config.reported_seeds(cfg, missing) == ([], {0.1: [0, 1, 2], 0.3: [0]})
    missing.append(("mix", "full", 1.0, 0))  # no reference for seed 0: seed 0 nowhere
    assert de.config.reported_seeds(cfg, missing) == ([0.3], {0.1: [1, 2]})


def test_s2l_sentence_separates_the_clustering_from_the_source_split(de):
    def c(verdict, mean):
        return {"verdict": verdict, "seeds": {"mean": mean}}

    txt = de.premise.s2l_sentence(
        "holds",
        {
            "random": c("worse", 0.45),
            "random_by_source": c("better", -0.037),
            "split": c("worse", 0.49),
        },
    )
    assert "beats random by source (−0.037 nats) but loses to random (+0.450 nats)" in txt
    assert "clustering helps" in txt and "random by source vs random (+0.490 nats)" in txt
    assert "premise holds" in txt
    # verdict strings (no numbers) still work; no split: no split clause
    txt = de.premise.s2l_sentence("holds", {"random": "worse", "random_by_source": "better"})
    assert "loses to random." in txt and "vs random (" not in txt


def test_source_table(de):
    res = {
        "runs": [
            {"pool": "mix", "method": "s2l", "seed": 0, "per_source": {"a": 3, "b": 3}},
            {"pool": "mix", "method": "full", "seed": 0, "per_source": {"a": 10, "b": 1000}},
            {"pool": "mix", "method": "random", "seed": 0, "per_source": {"b": 6}},
            {"pool": "mix", "method": "random", "seed": 1, "per_source": {"a": 9}},
        ]
    }
    assert de.tables.source_table(res, "mix", 0).splitlines() == [
        "| method | a | b |",
        "|---|---:|---:|",
        "| Full data | 10 | 1,000 |",
        "| Random | 0 | 6 |",
        "| S2L (by source) | 3 | 3 |",
    ]
    assert de.tables.source_table(res, "gsm8k", 0) == ""


# ------------------------------------------------------------------ the methods table
def test_proportional_methods_keep_the_pool_mix_and_v3_methods_stay_equal(de, tmp_path):
    """The v4 methods split by source in proportion to the pool; the v3 by-source methods
    pin the official equal split (a change of the library's default must not change what a
    cached run selected)."""
    import hf_s2l
    from hf_s2l.store import TrajectoryStore

    rng = np.random.default_rng(0)
    sources = np.array(["a"] * 120 + ["b"] * 60 + ["c"] * 20)
    n = len(sources)
    path = tmp_path / "store"
    with TrajectoryStore.create(path, n, dataset_fingerprint="fp") as store:
        for j, s in enumerate([0, 10, 20, 30]):
            c = store.add_column(global_step=s, epoch=float(j), kind="point")
            store.write(c, np.arange(n), (3.0 - 0.02 * s + rng.normal(0, 0.3, n)).astype("f4"))
            store.mark_complete(c)
        store.set_metadata("source", sources)

    def counts(name):
        kind, method, kw = de.methods.selection_kwargs(
            name, seed=0, sources=sources, embeddings=None, s2l_k=3, lp_k=4
        )
        sel = hf_s2l.select(path, method, 0.3, **kw)
        return dict(zip(*np.unique(sources[np.asarray(sel.indices)], return_counts=True)))

    mix = {"a": 36, "b": 18, "c": 6}  # 30% of every source: the pool's 60/30/10 mix
    assert counts("s2l_proportional") == mix
    assert counts("random_proportional") == mix
    assert counts("s2l") == counts("random_by_source") == {"a": 20, "b": 20, "c": 20}
    for name in ("random_by_source", "s2l", "s2l_in_step"):
        assert de.methods.METHODS[name].quotas == "equal"
        assert (
            de.methods.selection_kwargs(
                name, seed=0, sources=sources, embeddings=None, s2l_k=3, lp_k=4
            )[2]["group_quotas"]
            == "equal"
        )
    assert de.methods.methods_for(False, ("random", "s2l_proportional")) == ["random"]


def test_goal_and_glance_tables(de):
    """Which setting for which goal: per evaluation and budget, the methods that beat random
    (best first); the glance table has every method on every evaluation."""

    def c(a, ev, b, mean, verdict):
        return {"pool": "mix", "eval": ev, "a": a, "b": "random", "budget": b,
                "seeds": {"mean": mean}, "verdict": verdict}  # fmt: skip

    res = {
        "pools": {
            "mix": {
                "evals": {
                    "heldout": {"title": "held-out 10% of the pool"},
                    "numglue": {"title": "NumGLUE"},
                }
            }
        }
    }
    summ = {
        "values": {("mix", "heldout"): {1: 1}, ("mix", "numglue"): {1: 1}},
        "comparisons": [
            c("lp", "heldout", 0.3, -0.19, "better"),
            c("random_proportional", "heldout", 0.3, -0.02, "better"),
            c("s2l", "heldout", 0.3, 0.45, "worse"),
            c("s2l", "numglue", 0.3, -0.30, "better"),
            c("lp", "numglue", 0.3, 0.40, "worse"),
        ],
    }
    assert de.tables.goal_table(res, summ, "mix", [0.3]).splitlines() == [
        "| evaluated on | beats random at 30% |",
        "|---|---|",
        "| held-out 10% of the pool | LP (clustered) −0.190; Random by source (proportional) "
        "−0.020 |",
        "| NumGLUE | S2L (by source) −0.300 |",
    ]
    glance = de.tables.glance_table(res, summ, "mix", 0.3).splitlines()
    assert glance[0] == "| method − Random at 30% | held-out 10% of the pool | NumGLUE |"
    assert "| S2L (by source) | +0.450 **worse** | −0.300 **better** |" in glance
    assert "| LP (clustered) | −0.190 **better** | +0.400 **worse** |" in glance


def test_source_table_names_the_budget_when_there_are_several(de):
    runs = [
        {"pool": "mix", "method": "random", "budget": b, "seed": 0, "per_source": {"a": n}}
        for b, n in [(0.3, 30), (0.1, 10)]
    ] + [{"pool": "mix", "method": "full", "budget": 1.0, "seed": 0, "per_source": {"a": 100}}]
    assert de.tables.source_table({"runs": runs}, "mix", 0).splitlines()[2:] == [
        "| Full data | 100 |",
        "| Random at 10% | 10 |",
        "| Random at 30% | 30 |",
    ]
