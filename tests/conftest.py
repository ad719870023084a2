"""Shared fixtures: committed data slices (tests/fixtures/data), a tokenizer trained on the
spot, tiny models. Nothing outside the repository is read."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURE_DATA = REPO / "tests" / "fixtures" / "data"

# The suite must run from a plain clone: a "shared" data folder beside the clone or above it
# (where the data once came from) must never be read. An audit hook makes any attempt fail.
FORBIDDEN_DIRS = tuple(str(a / "shared") for a in REPO.parents if a != Path(a.anchor))


class OutsideRepositoryError(RuntimeError):
    """A test read data from outside the repository."""


def _forbid_outside_data(event: str, args: tuple) -> None:
    if event not in ("open", "os.listdir", "os.scandir") or not args:
        return
    path = args[0]
    if not isinstance(path, (str, bytes, os.PathLike)):
        return
    full = os.path.abspath(os.fsdecode(path))
    for forbidden in FORBIDDEN_DIRS:
        if full == forbidden or full.startswith(forbidden + os.sep):
            raise OutsideRepositoryError(
                f"a test opened {full}: tests must use only the repository's files "
                "(tests/fixtures/data for data)"
            )


sys.addaudithook(_forbid_outside_data)


@pytest.fixture(autouse=True)
def _environment_restored():
    """Each test leaves ``os.environ`` as it found it. With accelerate < 1.2 (the floor job's
    1.1.1), ``TrainingArguments(torch_compile=True)`` writes ``ACCELERATE_DYNAMO_BACKEND`` into
    the process environment, and every later Trainer on the same xdist worker then compiled
    its model: on the floor stack a left-padded tiny GPT-NeoX trained to NaN that way, in
    whichever test happened to follow a compile test on that worker."""
    from unittest import mock

    with mock.patch.dict(os.environ):
        yield


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("WANDB_DISABLED", "true")


@pytest.fixture(autouse=True)
def _library_loggers():
    """Every test sees hf_s2l's loggers as a user does (enabled, propagating to the root, no
    level of their own): a test (or third-party code it runs, e.g. a ``dictConfig`` that
    disables existing loggers) in the same xdist worker must not silence the warnings later
    tests assert on with ``caplog``."""
    import logging

    for name, lg in list(logging.Logger.manager.loggerDict.items()):
        if isinstance(lg, logging.Logger) and (name == "hf_s2l" or name.startswith("hf_s2l.")):
            lg.disabled = False
            lg.propagate = True
            lg.setLevel(logging.NOTSET)
    yield


@pytest.fixture(autouse=True)
def _method_registry():
    """Methods a test registers (README examples, user-method tests) do not outlive it, so
    tests sharing a process (pytest-xdist workers) never see another test's registrations."""
    base = sys.modules.get("hf_s2l.selection.base")
    before = dict(base._REGISTRY) if base is not None else None
    yield
    base = sys.modules.get("hf_s2l.selection.base")
    if base is not None:
        if before is None:  # first imported during this test: keep only the built-ins
            before = {
                name: spec
                for name, spec in base._REGISTRY.items()
                if getattr(spec.fn, "__module__", "").startswith("hf_s2l.")
            }
        base._REGISTRY.clear()
        base._REGISTRY.update(before)


@pytest.fixture(scope="session")
def fixture_data() -> Path:
    """``tests/fixtures/data``: committed slices of the math mixture, the math eval sets and
    the IU radiology reports (layout and licences in its README)."""
    return FIXTURE_DATA


@pytest.fixture(scope="session")
def shared_data(fixture_data) -> Path:
    """Alias of :func:`fixture_data` (the name older tests use)."""
    return fixture_data


@pytest.fixture(scope="session")
def math_raw():
    """A small real slice of the math mixture: 24 rows from each of the 4 sources."""
    from hf_s2l.experiments.corpora import load_math_mixture

    return load_math_mixture(FIXTURE_DATA / "math_mix", max_per_source=24)


@pytest.fixture(scope="session")
def tokenizer_dir(tmp_path_factory, math_raw) -> Path:
    """A byte-level BPE tokenizer (vocab 384) trained on the math slice, saved locally."""
    from hf_s2l.experiments.tiny import train_tokenizer

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
    from hf_s2l import tokenize_sft

    return math_raw.map(
        tokenize_sft,
        fn_kwargs={"tokenizer": tokenizer, "max_length": 128},
        remove_columns=math_raw.column_names,
    )


@pytest.fixture
def tiny_causal_lm(tokenizer):
    """A fresh 2-layer GPT-NeoX (Pythia family), hidden 32."""
    from hf_s2l.experiments.tiny import tiny_model

    return tiny_model(family="gpt_neox", vocab_size=len(tokenizer), hidden_size=32, num_layers=2)
