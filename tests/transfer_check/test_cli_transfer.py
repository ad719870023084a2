"""``hf-s2l transfer`` in a real subprocess-free CLI call (main(argv))."""

from __future__ import annotations

import json

import numpy as np

from hf_s2l.cli import main
from hf_s2l.transfer_check import NUMERIC_KEYS

from .conftest import latent_curves, write_store


def test_cli_json_has_the_keys(related_pair, capsys):
    proxy, target = related_pair
    assert main(["transfer", str(proxy), str(target), "--json", "--k", "10", "--seed", "3"]) == 0
    d = json.loads(capsys.readouterr().out)
    for key in NUMERIC_KEYS:
        assert key in d
    assert d["k"] == 10 and d["seed"] == 3 and d["n_aligned"] == 300
    assert d["spearman"] > 0.9 and isinstance(d["verdict"], str)


def test_cli_human_output(related_pair, capsys):
    assert main(["transfer", *map(str, related_pair), "--k", "10"]) == 0
    out = capsys.readouterr().out
    assert "spearman (mean over 3 matched columns)" in out
    assert "random clusters of the same sizes (mean of 10)" in out
    assert "verdict: The proxy stands for the target:" in out


def test_cli_refuses_misaligned_stores(tmp_path, capsys):
    start, speed = latent_curves(n=40)
    p = write_store(tmp_path / "p", start, speed, [10, 20], fingerprint="a")
    t = write_store(tmp_path / "t", start, speed, [10, 20], fingerprint="b", ids=np.arange(40))
    assert main(["transfer", str(p), str(t)]) == 2
    assert "error: cannot align the proxy and target stores" in capsys.readouterr().err


def test_cli_refuses_the_same_store_twice(related_pair, tmp_path, capsys):
    """``hf-s2l transfer S S`` said "stands" with rho 1.00: one store (its folder twice, or a
    copy of it) is refused, naming why and what to pass instead."""
    import shutil

    import pytest

    import hf_s2l
    from hf_s2l.transfer_check import TransferAlignmentError

    proxy, target = related_pair
    assert main(["transfer", str(proxy), str(proxy)]) == 2
    err = capsys.readouterr().err
    assert "the same folder" in err and "target model's own store" in err
    copy = tmp_path / "copy"
    shutil.copytree(proxy, copy)
    assert main(["transfer", str(proxy), str(copy)]) == 2
    assert "copies of one store" in capsys.readouterr().err
    with pytest.raises(TransferAlignmentError, match="the same folder"):
        hf_s2l.transfer(proxy, str(proxy) + "/")
    assert hf_s2l.transfer(proxy, target, k=4).spearman > 0.9  # two stores: still compared
