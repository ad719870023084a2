"""Shared fixtures: real data from ../shared/data, a tokenizer trained on the spot, tiny models."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _shared_data() -> Path:
    env = os.environ.get("HF_S2L_SHARED_DATA")
    candidates = [Path(env)] if env else []
    candidates += [REPO.parent / "shared" / "data", Path("/work/shared/data")]
    for c in candidates:
        if (c / "math_mix").is_dir():
            return c
    raise RuntimeError("shared data not found; set HF_S2L_SHARED_DATA to the ../shared/data folder")


SHARED_DATA = _shared_data()


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("WANDB_DISABLED", "true")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The ``../shared/data`` folder (math mixture, math eval sets, radiology reports)."""
    return SHARED_DATA


@pytest.fixture(scope="session")
def math_raw():
    """A small real slice of the math mixture: 24 rows from each of the 4 sources."""
    from hf_s2l.corpora import load_math_mixture

    return load_math_mixture(SHARED_DATA / "math_mix", max_per_source=24)


@pytest.fixture(scope="session")
def tokenizer_dir(tmp_path_factory, math_raw) -> Path:
    """A byte-level BPE tokenizer (vocab 384) trained on the math slice, saved locally."""
    from hf_s2l.tiny import train_tokenizer

    d = tmp_path_factory.mktemp("tokenizer")
    texts = [r["instruction"] + " " + r["output"] for r in math_raw]
    train_tokenizer(texts, vocab_size=384, save_dir=d)
    return d


@pytest.fixture(scope="session")
def tokenizer(tokenizer_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tokenizer_dir)


@pytest.fixture(scope="session")
def math_tokenized(math_raw, tokenizer):
    """The math slice tokenised Alpaca-style (prompt masked), max 128 tokens."""
    from hf_s2l.corpora import tokenize_sft

    return math_raw.map(
        tokenize_sft,
        fn_kwargs={"tokenizer": tokenizer, "max_length": 128},
        remove_columns=math_raw.column_names,
    )


@pytest.fixture
def tiny_causal_lm(tokenizer):
    """A fresh 2-layer GPT-NeoX (Pythia family), hidden 32."""
    from hf_s2l.tiny import tiny_model

    return tiny_model(family="gpt_neox", vocab_size=len(tokenizer), hidden_size=32, num_layers=2)
