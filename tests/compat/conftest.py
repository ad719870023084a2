"""Compatibility matrix (issue 18): set-up shared by every stack's test.

Two helpers do the work:

* :func:`record` trains a real Trainer (built by the test from the callbacks it is given) with
  a :class:`~hf_s2l.TrajectoryCallback` in the requested mode and a :class:`Snapshots`
  callback keeping the weights of every optimizer step;
* :func:`check_store` compares EVERY stored cell with the example's loss computed alone,
  ``model(input_ids=x[None], labels=y[None]).loss``, on a fresh copy of the model loaded with
  the weights of the step the cell records (probe: the column's step; in-step: the cell's
  ``cell_steps``). ``x``/``y`` come from the Trainer's own collator applied to that one row.

A stack that cannot be recorded must instead stop at the first training step with an error
naming the way out: :func:`assert_stops_early`.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from transformers import TrainerCallback

from hf_s2l.compat import alone_rtol

MODES = ("probe", "in_step")
MAX_LEN = 48


class Snapshots(TrainerCallback):
    """A copy of the model (at train begin) and of its weights after every optimizer step."""

    def __init__(self) -> None:
        self.states: dict[int, dict[str, torch.Tensor]] = {}
        self.initial: torch.nn.Module | None = None

    def _take(self, state: Any, model: Any) -> None:
        self.states[int(state.global_step)] = {
            k: v.detach().clone() for k, v in model.state_dict().items()
        }

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        if self.initial is None:
            self.initial = copy.deepcopy(getattr(model, "_orig_mod", model))
            # a fresh model: drop forwards patched onto instances (TRL's fused LM head binds
            # the TRAINED head into the copy's forward); the class's own forward is the reference
            for module in self.initial.modules():
                vars(module).pop("forward", None)
        self._take(state, model)

    def on_step_end(self, args, state, control, model=None, **kwargs):
        self._take(state, model)


@dataclass
class Run:
    trainer: Any
    snapshots: Snapshots
    stores: dict[str, Path] = field(default_factory=dict)  # "probe" / "in_step" -> path

    @property
    def states(self) -> dict[int, dict[str, torch.Tensor]]:
        return self.snapshots.states


def training_args(out_dir: Path, cls: Any = None, **overrides: Any):
    """Small, deterministic, CPU, fp32 arguments (``cls``: TrainingArguments or a subclass)."""
    from transformers import TrainingArguments

    kw: dict[str, Any] = dict(
        output_dir=str(out_dir),
        per_device_train_batch_size=4,
        max_steps=4,
        learning_rate=5e-3,
        warmup_steps=0,
        logging_steps=1,
        save_strategy="no",
        report_to=[],
        disable_tqdm=True,
        use_cpu=True,
        seed=0,
        data_seed=0,
        dataloader_num_workers=0,
    )
    kw.update(overrides)
    return (cls or TrainingArguments)(**kw)


def one_epoch_args(out_dir: Path, cls: Any = None, **overrides: Any):
    """:func:`training_args` for whole epochs (one unless ``num_train_epochs`` says otherwise)
    of batches of 8: 3 optimizer steps an epoch over the 24 rows."""
    kw: dict[str, Any] = dict(num_train_epochs=1, max_steps=-1, per_device_train_batch_size=8)
    kw.update(overrides)
    return training_args(out_dir, cls, **kw)


def trainer_factory(
    tmp_path: Path,
    model: Any,
    ds: Any,
    collator: Any,
    *,
    trainer_cls: Any = None,
    args_cls: Any = None,
    compute_loss_func: Callable[..., torch.Tensor] | None = None,
    **args: Any,
) -> Callable[[list[TrainerCallback]], Any]:
    """``make(callbacks)`` for :func:`record` and :func:`assert_stops_early`: a ``Trainer`` (or
    ``trainer_cls``) of ``model`` on ``ds`` with ``collator``, its arguments
    :func:`one_epoch_args` (``args_cls``, ``args`` override) under ``tmp_path / "run"``."""
    from transformers import Trainer

    def make(callbacks: list[TrainerCallback]) -> Any:
        kw = {"compute_loss_func": compute_loss_func} if compute_loss_func is not None else {}
        return (trainer_cls or Trainer)(
            model=model,
            args=one_epoch_args(tmp_path / "run", args_cls, **args),
            train_dataset=ds,
            data_collator=collator,
            callbacks=callbacks,
            **kw,
        )

    return make


def record(
    tmp_path: Path,
    make_trainer: Callable[[list[TrainerCallback]], Any],
    mode: str,
    *,
    num_points: int = 2,
    **callback_kw: Any,
) -> Run:
    """Train ``make_trainer(callbacks)`` with a TrajectoryCallback in ``mode``; keep the weights.

    The probe records at step 0 and ``num_points`` evenly spaced points (no epoch-end column
    unless asked), batch 8. Returns the trainer, the snapshots and the store path(s).
    """
    from hf_s2l import TrajectoryCallback

    out = tmp_path / f"traj-{mode}"
    callback_kw.setdefault("at_epoch_end", False)
    cb = TrajectoryCallback(out, mode=mode, num_points=num_points, batch_size=8, **callback_kw)
    snaps = Snapshots()
    trainer = make_trainer([snaps, cb])
    trainer.train()
    stores = {}
    if mode in ("probe", "both"):
        stores["probe"] = out
    if mode == "in_step":
        stores["in_step"] = out
    if mode == "both":
        stores["in_step"] = out / "in_step"
    return Run(trainer, snaps, stores)


def alone_batch(trainer: Any, row: int) -> dict[str, torch.Tensor]:
    """The Trainer's collator applied to dataset row ``row`` alone: ``input_ids``, ``labels``."""
    ex = dict(trainer.train_dataset[row])
    batch = trainer.data_collator([ex])
    return {"input_ids": batch["input_ids"], "labels": batch["labels"]}


def model_columns_batch(trainer: Any, row: int) -> dict[str, torch.Tensor]:
    """:func:`alone_batch` of a dataset with other columns too: only ``input_ids``,
    ``attention_mask`` and ``labels`` of row ``row`` go to the collator."""
    ex = {k: trainer.train_dataset[row][k] for k in ("input_ids", "attention_mask", "labels")}
    batch = trainer.data_collator([ex])
    return {"input_ids": batch["input_ids"], "labels": batch["labels"]}


def token_ce(
    outputs: Any, labels: torch.Tensor, num_items_in_batch: Any = None, *, shift: bool = True
) -> torch.Tensor:
    """A user's ``compute_loss_func``: the token cross-entropy summed over the targets, divided
    by ``num_items_in_batch`` (or the batch's target count); logits at t against the label at
    t + 1 (``shift=False``: against the label at t, for pre-shifted labels)."""
    logits = outputs["logits"] if isinstance(outputs, dict) else outputs[0]
    if shift:
        logits, labels = logits[:, :-1], labels[:, 1:]
    logits = logits.float()
    loss = torch.nn.functional.cross_entropy(
        logits.reshape(-1, logits.size(-1)), labels.reshape(-1), ignore_index=-100, reduction="sum"
    )
    n = num_items_in_batch if num_items_in_batch is not None else (labels != -100).sum()
    return loss / n


def _has_target(labels: torch.Tensor, encoder_decoder: bool, shifted: bool = True) -> bool:
    if labels.dim() == 1:  # one class label per row (sequence classification)
        return bool((labels != -100).any())
    return bool((labels[..., 0 if encoder_decoder or not shifted else 1 :] != -100).any())


def model_loss(output: Any) -> torch.Tensor:
    """``output.loss``, or the first element of a ``(loss, logits)`` tuple."""
    return output[0] if isinstance(output, (tuple, list)) else output.loss


def alone_losses(
    run: Run,
    rows: np.ndarray,
    steps: np.ndarray,
    *,
    batch_fn: Callable[[Any, int], dict[str, torch.Tensor]] = alone_batch,
    autocast: torch.dtype | None = None,
    loss_fn: Callable[[Any], torch.Tensor] = model_loss,
    shifted: bool = True,
) -> np.ndarray:
    """``model(input_ids=x[None], labels=y[None]).loss`` of each row with its step's weights
    (``loss_fn`` reads the loss from the output; ``shifted=False``: labels are not shifted, as
    in masked LMs, for which row has a target)."""
    model = copy.deepcopy(run.snapshots.initial)
    model.eval()
    enc_dec = bool(getattr(getattr(model, "config", None), "is_encoder_decoder", False))
    out = np.full(len(rows), np.nan)
    for s in np.unique(steps):
        assert int(s) in run.states, f"no snapshot of step {s} (have {sorted(run.states)})"
        state = run.states[int(s)]
        model.load_state_dict({k.replace("_orig_mod.", ""): v for k, v in state.items()})
        for j in np.flatnonzero(steps == s):
            batch = batch_fn(run.trainer, int(rows[j]))
            if not _has_target(batch["labels"], enc_dec, shifted):
                continue
            ctx = (
                torch.autocast("cpu", dtype=autocast)
                if autocast is not None
                else torch.autocast("cpu", enabled=False)
            )
            with torch.no_grad(), ctx:
                out[j] = loss_fn(model(**batch)).float().item()
    return out


def check_store(
    path: Path,
    run: Run,
    *,
    rtol: float | None = None,
    complete: bool = True,
    batch_fn: Callable[[Any, int], dict[str, torch.Tensor]] = alone_batch,
    autocast: torch.dtype | None = None,
    min_columns: int = 1,
    loss_fn: Callable[[Any], torch.Tensor] = model_loss,
    shifted: bool = True,
) -> Any:
    """Every stored cell of the store at ``path`` == the row's loss alone at the cell's step.

    ``complete``: every column must be complete (every row with a target scored); otherwise
    only the cells present are compared. Returns the opened store.
    """
    rtol = alone_rtol() if rtol is None else rtol
    from hf_s2l import TrajectoryStore

    store = TrajectoryStore.open(path)
    n = len(run.trainer.train_dataset)
    assert store.num_examples == n, (store.num_examples, n)
    assert store.num_columns >= min_columns, f"{path}: {store.num_columns} columns recorded"
    losses = np.asarray(store.losses, dtype=np.float64)
    if store.mode == "in_step":
        cell_steps = np.asarray(store.cell_steps)
    else:
        cell_steps = np.broadcast_to(np.asarray(store.steps)[None, :], losses.shape)
    if complete:
        assert store.complete_columns().tolist() == list(range(store.num_columns)), (
            f"{path}: complete columns {store.complete_columns().tolist()} of {store.num_columns}"
        )
    checked = 0
    for c in range(store.num_columns):
        if complete:
            rows = np.arange(n)
        else:
            rows = np.flatnonzero(~np.isnan(losses[:, c]))
        if store.mode == "in_step":
            assert (cell_steps[rows, c] >= 0).all() or not complete, (c, cell_steps[rows, c])
            rows = rows[cell_steps[rows, c] >= 0]
        ref = alone_losses(
            run,
            rows,
            cell_steps[rows, c],
            batch_fn=batch_fn,
            autocast=autocast,
            loss_fn=loss_fn,
            shifted=shifted,
        )
        got = losses[rows, c]
        assert np.array_equal(np.isnan(got), np.isnan(ref)), (
            f"column {c}: NaN pattern differs: stored NaN at rows "
            f"{rows[np.isnan(got)].tolist()}, alone NaN at {rows[np.isnan(ref)].tolist()}"
        )
        ok = ~np.isnan(ref)
        rel = np.abs(got[ok] - ref[ok]) / np.abs(ref[ok])
        if rel.size:
            worst = int(np.argmax(rel))
            assert rel.max() <= rtol, (
                f"{path} column {c} (step {int(cell_steps[rows[ok][worst], c])}): row "
                f"{int(rows[ok][worst])} stored {got[ok][worst]:.6f}, alone "
                f"{ref[ok][worst]:.6f} (rel {rel.max():.2e} > {rtol}); "
                f"{int((rel > rtol).sum())} of {rel.size} cells off"
            )
        checked += int(ok.sum())
    assert checked > 0, f"{path}: no cell compared"
    return store


def check_run(run: Run, **kw: Any) -> None:
    """:func:`check_store` on every store the run wrote."""
    assert run.stores
    for path in run.stores.values():
        check_store(path, run, **kw)


WAY_OUT = re.compile(r"mode\s*=\s*['\"]?(probe|in_step)|packing|padding_free|use |convert", re.I)


def assert_stops_early(
    tmp_path: Path,
    make_trainer: Callable[[list[TrainerCallback]], Any],
    mode: str,
    *,
    match: str | None = None,
    **callback_kw: Any,
) -> BaseException:
    """Training stops before its second optimizer step (or the Trainer refuses the set-up) with
    an error naming a way out."""
    from hf_s2l import TrajectoryCallback

    callback_kw.setdefault("at_epoch_end", False)
    cb = TrajectoryCallback(
        tmp_path / f"traj-{mode}", mode=mode, num_points=2, batch_size=8, **callback_kw
    )
    snaps = Snapshots()
    with pytest.raises(Exception) as info:  # noqa: PT011 - the type is the recorder's choice
        make_trainer([snaps, cb]).train()  # refusing already in Trainer(...) is fine too
    steps_done = max(snaps.states) if snaps.states else 0
    assert steps_done <= 1, f"stopped only after {steps_done} steps: {info.value}"
    msg = str(info.value)
    assert WAY_OUT.search(msg), f"the error names no way out: {msg}"
    if match is not None:
        assert re.search(match, msg, re.I), msg
    return info.value


# ----------------------------------------------------------------------------- data + models


def _tokenize(example: dict[str, Any], tokenizer: Any) -> dict[str, list[int]]:
    p = tokenizer("Q: " + example["instruction"], add_special_tokens=False)["input_ids"][:16]
    p = p + tokenizer("\nA:", add_special_tokens=False)["input_ids"]
    r = tokenizer(" " + example["output"] + tokenizer.eos_token, add_special_tokens=False)
    ids = (p + r["input_ids"])[:MAX_LEN]
    labels = ([-100] * len(p) + r["input_ids"])[:MAX_LEN]
    return {"input_ids": ids, "attention_mask": [1] * len(ids), "labels": labels}


@pytest.fixture(scope="session")
def compat_raw(math_raw):
    """24 real math rows (6 per source) with ``example_id`` and ``source``."""
    by_source: dict[str, list[int]] = {}
    for i, s in enumerate(math_raw["source"]):
        by_source.setdefault(s, []).append(i)
    keep = sorted(i for idx in by_source.values() for i in idx[:6])
    ds = math_raw.select(keep)
    return ds.add_column("example_id", [f"ex{i:03d}" for i in range(len(ds))])


@pytest.fixture(scope="session")
def compat_tokenized(compat_raw, tokenizer):
    """The 24 rows tokenised (prompt masked): input_ids, attention_mask, labels (+ id, source)."""
    return compat_raw.map(
        _tokenize, fn_kwargs={"tokenizer": tokenizer}, remove_columns=["instruction", "output"]
    )


@pytest.fixture(scope="session")
def compat_ds(compat_tokenized):
    """Only the model columns."""
    return compat_tokenized.remove_columns(["example_id", "source"])


@pytest.fixture
def causal_lm(tokenizer):
    """A factory of fresh tiny GPT-NeoX models (fp32, no dropout)."""

    def make(seed: int = 0, family: str = "gpt_neox"):
        from hf_s2l.experiments.tiny import tiny_model

        model = tiny_model(
            family=family, vocab_size=len(tokenizer), hidden_size=32, num_layers=2, seed=seed
        )
        model.config.use_cache = False
        return model

    return make


# the common size of the tiny models built from a transformers config (BERT, Mixtral)
TINY_SIZES = dict(
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=2,
    intermediate_size=64,
    max_position_embeddings=64,
)


def seeded_model(tokenizer: Any, config_cls: str, model_cls: str, seed: int = 0, **config: Any):
    """``transformers.<model_cls>(transformers.<config_cls>(vocab_size=len(tokenizer),
    pad_token_id=tokenizer.pad_token_id, **config))``, initialised after
    ``torch.manual_seed(seed)``: the architectures ``hf_s2l.experiments.tiny.tiny_model``
    does not build."""
    import transformers

    torch.manual_seed(seed)
    cfg = getattr(transformers, config_cls)(
        vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id, **config
    )
    return getattr(transformers, model_cls)(cfg)


@pytest.fixture
def helpers():
    """The module-level helpers of this conftest."""
    import sys

    return sys.modules[__name__]


def nan_free(x: float) -> bool:
    return not math.isnan(x)


def deviation(path: Path, run: Run, **kw: Any) -> float:
    """The largest relative difference between a stored cell and the row's loss alone (every
    stored cell of the store at ``path``; NaN cells skipped)."""
    from hf_s2l import TrajectoryStore

    store = TrajectoryStore.open(path)
    losses = np.asarray(store.losses, dtype=np.float64)
    if store.mode == "in_step":
        cell_steps = np.asarray(store.cell_steps)
    else:
        cell_steps = np.broadcast_to(np.asarray(store.steps)[None, :], losses.shape)
    worst = 0.0
    for c in range(store.num_columns):
        rows = np.flatnonzero(~np.isnan(losses[:, c]))
        if store.mode == "in_step":
            rows = rows[cell_steps[rows, c] >= 0]
        ref = alone_losses(run, rows, cell_steps[rows, c], **kw)
        ok = ~np.isnan(ref)
        if ok.any():
            rel = np.abs(losses[rows, c][ok] - ref[ok]) / np.abs(ref[ok])
            worst = max(worst, float(rel.max()))
    return worst


def log_lines(caplog: Any, text: str) -> list[str]:
    """The captured log records whose message contains ``text``."""
    return [r.getMessage() for r in caplog.records if text in r.getMessage()]
