"""hf_s2l.transfer on constructed stores: related pairs score high, unrelated near zero."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import hf_s2l
from hf_s2l.store import TrajectoryStore
from hf_s2l.transfer_check import TransferAlignmentError, TransferReport, column_progress
from hf_s2l.transfer_check.metrics import between_share, spearman

from .conftest import latent_curves, write_store


def test_related_pair_scores_high(related_pair):
    proxy, target = related_pair
    r = hf_s2l.transfer(proxy, target, k=12, seed=0)
    assert isinstance(r, TransferReport)
    assert r.spearman > 0.9
    assert r.variance_explained > 0.9
    assert r.variance_explained_random < 0.2
    assert r.n_proxy == r.n_target == r.n_aligned == 300
    assert r.k == 12
    assert r.alignment == "ids"
    assert r.verdict.startswith("The proxy stands for the target:")
    # three target columns, each matched to the proxy column nearest in progress
    assert [p["target_column"] for p in r.spearman_pairs] == [1, 2, 3]
    assert [p["proxy_column"] for p in r.spearman_pairs] == [2, 4, 6]
    assert all(p["rho"] > 0.8 for p in r.spearman_pairs)


def test_unrelated_pair_scores_near_zero(tmp_path):
    start, speed = latent_curves(seed=0)
    other_start, other_speed = latent_curves(seed=99)
    ids = np.arange(len(start))
    proxy = write_store(tmp_path / "p", start, speed, [10, 20, 30, 40], ids=ids)
    target = write_store(tmp_path / "t", other_start, other_speed, [5, 10], ids=ids, noise=0.02)
    r = hf_s2l.transfer(proxy, target, k=12, seed=0)
    assert abs(r.spearman) < 0.15
    assert abs(r.variance_explained - r.variance_explained_random) < 0.08
    assert r.verdict.startswith("The proxy does not stand for the target")


def test_default_k_is_s2l_default_and_random_baseline_tracks_cluster_count(related_pair):
    proxy, target = related_pair
    r = hf_s2l.transfer(proxy, target)
    assert r.k == 100  # S2LConfig().num_clusters
    # random partitions into 100 clusters of 300 rows explain about (K-1)/(N-1) of the variance
    assert 0.2 < r.variance_explained_random < 0.45
    assert r.variance_explained > r.variance_explained_random + 0.4


def test_target_covering_a_subset_of_ids(tmp_path):
    start, speed = latent_curves()
    ids = np.array([f"ex-{i}" for i in range(len(start))])
    proxy = write_store(tmp_path / "p", start, speed, [10, 20, 30], ids=ids)
    rng = np.random.default_rng(5)
    sub = rng.permutation(len(start))[:90]  # shuffled subset: the order must not matter
    target = write_store(
        tmp_path / "t",
        start[sub],
        speed[sub],
        [50, 100],
        ids=ids[sub],
        noise=0.02,
        transform=np.sqrt,
        fingerprint="another-dataset",
    )
    r = hf_s2l.transfer(proxy, target, k=8)
    assert (r.n_proxy, r.n_target, r.n_aligned) == (300, 90, 90)
    assert r.spearman > 0.9
    assert r.variance_explained > r.variance_explained_random + 0.5


def test_fingerprint_alignment_without_ids(tmp_path):
    start, speed = latent_curves()
    proxy = write_store(tmp_path / "p", start, speed, [10, 20, 30])
    target = write_store(tmp_path / "t", start, speed, [7], noise=0.02, transform=np.log1p)
    r = hf_s2l.transfer(str(proxy), TrajectoryStore.open(target), k=6)
    assert r.alignment == "fingerprint"
    assert r.spearman > 0.9


def test_different_datasets_without_ids_are_refused(tmp_path):
    start, speed = latent_curves()
    proxy = write_store(tmp_path / "p", start, speed, [10, 20], fingerprint="a")
    target = write_store(tmp_path / "t", start, speed, [10, 20], fingerprint="b")
    with pytest.raises(TransferAlignmentError, match="cannot align.*fingerprints a vs b"):
        hf_s2l.transfer(proxy, target)
    assert issubclass(TransferAlignmentError, ValueError)
    assert hf_s2l.TransferAlignmentError is TransferAlignmentError


def test_target_ids_outside_the_proxy_are_refused(tmp_path):
    start, speed = latent_curves(n=50)
    proxy = write_store(tmp_path / "p", start, speed, [10, 20], ids=np.arange(50))
    target = write_store(tmp_path / "t", start, speed, [10, 20], ids=np.arange(50) + 45)
    with pytest.raises(TransferAlignmentError, match="45 of the target's 50 example ids are not"):
        hf_s2l.transfer(proxy, target)


def test_duplicate_ids_are_refused(tmp_path):
    start, speed = latent_curves(n=50)
    ids = np.arange(50)
    dup = ids.copy()
    dup[7] = 3
    proxy = write_store(tmp_path / "p", start, speed, [10, 20], ids=ids)
    target = write_store(tmp_path / "t", start, speed, [10, 20], ids=dup)
    with pytest.raises(
        TransferAlignmentError, match=r"target store .* duplicate example ids \(e.g. \[3\]\)"
    ):
        hf_s2l.transfer(proxy, target)


def test_store_without_trained_column_is_refused(tmp_path):
    start, speed = latent_curves(n=40)
    proxy = write_store(tmp_path / "p", start, speed, [10, 20])
    with TrajectoryStore.create(tmp_path / "t", 40, dataset_fingerprint="fp-pool") as s:
        c = s.add_column(global_step=0, epoch=0.0, kind="train_begin")
        s.write(c, np.arange(40), start.astype(np.float32))
        s.mark_complete(c)
    with pytest.raises(TransferAlignmentError, match="target store .* no complete column"):
        hf_s2l.transfer(proxy, tmp_path / "t")


def test_lp_hardest_overlap(tmp_path):
    start, speed = latent_curves()
    ids = np.arange(len(start))
    proxy = write_store(tmp_path / "p", start, speed, [10, 20, 30], ids=ids, epoch_ends=True)
    target = write_store(
        tmp_path / "t", start, speed, [5, 10], ids=ids, noise=0.01, epoch_ends=True
    )
    r = hf_s2l.transfer(proxy, target, k=6)
    assert r.lp_hardest_overlap is not None and r.lp_hardest_overlap > 0.5
    # no epoch-end columns: no LP(1), the overlap is None (and null in JSON)
    plain = write_store(tmp_path / "q", start, speed, [10, 20], ids=ids)
    r2 = hf_s2l.transfer(plain, target, k=6)
    assert r2.lp_hardest_overlap is None
    assert r2.to_dict()["lp_hardest_overlap"] is None


def test_to_dict_and_save_json(related_pair, tmp_path):
    r = hf_s2l.transfer(*related_pair, k=10)
    d = r.to_dict()
    for key in (
        "spearman",
        "variance_explained",
        "variance_explained_random",
        "lp_hardest_overlap",
        "n_proxy",
        "n_target",
        "n_aligned",
        "k",
    ):
        assert key in d
    assert isinstance(d["verdict"], str) and isinstance(d["spearman_pairs"], list)
    path = r.save_json(tmp_path / "out" / "transfer.json")
    assert json.loads(path.read_text()) == json.loads(json.dumps(d))


def test_bad_arguments(related_pair):
    with pytest.raises(ValueError, match="lp_fraction"):
        hf_s2l.transfer(*related_pair, lp_fraction=0)
    with pytest.raises(TypeError, match="proxy must be a TrajectoryStore"):
        hf_s2l.transfer(3, related_pair[1])
    # id_column asks for ids: stores without them are refused, not aligned by fingerprint
    tmp = related_pair[0].parent
    start, speed = latent_curves(n=30)
    p = write_store(tmp / "noid-p", start, speed, [10, 20])
    t = write_store(tmp / "noid-t", start, speed, [10, 20])
    assert hf_s2l.transfer(p, t, k=3).alignment == "fingerprint"
    with pytest.raises(TransferAlignmentError, match="id_column='doc'.*proxy and target"):
        hf_s2l.transfer(p, t, id_column="doc")


def test_metrics_reference_values():
    from scipy.stats import spearmanr

    rng = np.random.default_rng(0)
    a, b = rng.normal(size=50), rng.normal(size=50)
    b[:10] = a[:10]  # some ties in neither, some shared structure
    assert spearman(a, b) == pytest.approx(spearmanr(a, b).statistic)
    ties = np.array([1, 1, 2, 2, 3.0])
    assert spearman(ties, ties[::-1]) == pytest.approx(spearmanr(ties, ties[::-1]).statistic)
    y = np.array([[0.0], [0.0], [2.0], [2.0]])
    assert between_share(y, np.array([0, 0, 1, 1])) == 1.0
    assert between_share(y, np.array([0, 1, 0, 1])) == 0.0
    assert math.isnan(between_share(np.ones((4, 2)), np.array([0, 0, 1, 1])))


def test_progress_of_in_step_and_probe_columns(tmp_path):
    with TrajectoryStore.create(tmp_path / "s", 4, mode="in_step") as s:
        for e, (first, last) in enumerate([(1, 10), (11, 20)]):
            c = s.add_column(global_step=first, epoch=float(e), kind="epoch", epoch_index=e)
            s.write(c, np.arange(4), np.ones(4, np.float32), steps=first)
            s.mark_complete(c, last_step=last)
    assert column_progress(s, np.array([0, 1])) == pytest.approx([0.275, 0.775])


def test_verdict_words():
    from hf_s2l.transfer_check import verdict

    base = dict(
        spearman_pairs=[], lp_hardest_overlap=None, n_proxy=100, n_target=100, n_aligned=100
    )
    strong = TransferReport(
        spearman=0.8,
        variance_explained=0.7,
        variance_explained_random=0.1,
        k=10,
        verdict="",
        **base,
    )
    assert verdict(strong).startswith("The proxy stands for the target: examples rank alike")
    assert "Spearman 0.80" in verdict(strong) and "70%" in verdict(strong)
    part = TransferReport(
        spearman=0.4,
        variance_explained=0.2,
        variance_explained_random=0.1,
        k=10,
        verdict="",
        **base,
    )
    assert verdict(part).startswith("The proxy stands for the target only in part")
    none = TransferReport(
        spearman=0.05,
        variance_explained=0.11,
        variance_explained_random=0.1,
        k=10,
        verdict="",
        **base,
    )
    assert verdict(none).startswith("The proxy does not stand for the target")
    # one example per cluster: random partitions explain as much; the clusters are not judged
    tiny = TransferReport(
        spearman=0.7,
        variance_explained=0.98,
        variance_explained_random=0.97,
        k=90,
        verdict="",
        **base,
    )
    assert verdict(tiny).startswith("The proxy's ranking of the examples stands for the target's")
    assert "too few examples per cluster" in verdict(tiny)
    flat = TransferReport(
        spearman=float("nan"),
        variance_explained=float("nan"),
        variance_explained_random=0.1,
        k=10,
        verdict="",
        **base,
    )
    assert verdict(flat).startswith("No verdict")


def test_clusters_use_s2l_default_features(related_pair):
    proxy, target = related_pair
    r = hf_s2l.transfer(proxy, target, k=5)
    sel = hf_s2l.select(TrajectoryStore.open(proxy), "s2l", budget=0.3, num_clusters=5)
    assert r.proxy_columns == sel.stats["columns"] == [1, 2, 3, 4, 5, 6]  # no step-0 column
    assert r.k == sel.stats["num_clusters_used"] == 5
    assert r.target_columns == [1, 2, 3]


def test_clusters_leave_out_the_off_point_epoch_ends_as_s2l_does(tmp_path):
    """A 5-epoch proxy records 12 points and 4 epoch ends between them (issue 28): the
    transfer check clusters on the 12 points, the columns select(proxy, "s2l") uses."""
    start, speed = latent_curves(n=200)
    n = len(start)
    sched = [(0, 0.0, "train_begin")]
    sched += [(10 * j, j / 12 * 5, "point") for j in range(1, 13)]
    sched += [(24 * e, float(e), "epoch_end") for e in (1, 2, 3, 4)]  # 24, 48, .. off-point
    sched.sort(key=lambda s: s[0])
    proxy = tmp_path / "p"
    with TrajectoryStore.create(proxy, n, dataset_fingerprint="fp", example_ids=np.arange(n)) as st:
        for step, epoch, kind in sched:
            c = st.add_column(global_step=step, epoch=epoch, kind=kind)
            st.write(c, np.arange(n), (start * np.exp(-speed * step / 120)).astype(np.float32))
            st.mark_complete(c)
    target = write_store(tmp_path / "t", start, speed, [40, 80, 120], ids=np.arange(n))
    r = hf_s2l.transfer(proxy, target, k=5)
    store = TrajectoryStore.open(proxy)
    points = [int(c) for c in store.columns_of_kind("point")]
    assert len(points) == 12 and len(r.proxy_columns) == 12
    sel = hf_s2l.select(store, "s2l", budget=0.3, num_clusters=5)
    assert r.proxy_columns == sel.provenance["columns_used"] == points
    assert not set(r.proxy_columns) & {int(c) for c in store.columns_of_kind("epoch_end")}


def test_options_are_one_dataclass_checked_before_any_store_is_read(tmp_path):
    """transfer()/analyse() take TransferOptions' fields by keyword (one list, one place):
    a bad value or a misspelt name fails before the stores are opened."""
    from hf_s2l.transfer_check import TransferOptions, analyse

    assert TransferOptions() == TransferOptions(k=None, seed=0, n_random=10, lp_fraction=0.3)
    missing = tmp_path / "no-store"  # never opened: the options fail first
    for bad, match in (({"n_random": 0}, "n_random"), ({"k": 0}, "k must be")):
        with pytest.raises(ValueError, match=match):
            hf_s2l.transfer(missing, missing, **bad)
        with pytest.raises(ValueError, match=match):
            analyse(missing, missing, **bad)
    with pytest.raises(TypeError, match="'kk'"):
        hf_s2l.transfer(missing, missing, kk=3)


def test_constant_proxy_names_the_proxy_not_the_target(tmp_path):
    """A proxy whose losses never vary: the verdict blamed the target (whose std is 0.3)."""
    start, speed = latent_curves(n=60)
    ids = np.arange(60)
    proxy = write_store(
        tmp_path / "proxy", start, speed, [10, 20, 30], ids=ids, transform=lambda x: 0 * x + 1
    )
    target = write_store(tmp_path / "target", start, speed, [100, 200], ids=ids)
    assert np.nanstd(np.asarray(TrajectoryStore.open(target).losses)) > 0.2
    report = hf_s2l.transfer(proxy, target)
    assert (report.proxy_varies, report.target_varies) == (False, True)
    assert report.verdict.startswith("No verdict: the proxy's losses")
    assert str(proxy) in report.verdict and "target's losses" not in report.verdict
    flat_target = write_store(
        tmp_path / "flat-target", start, speed, [100, 200], ids=ids, transform=lambda x: 0 * x + 2
    )
    report = hf_s2l.transfer(target, flat_target)
    assert report.verdict.startswith("No verdict: the target's losses")
    assert str(flat_target) in report.verdict
