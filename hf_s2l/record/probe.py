"""The probe pass: a no-grad forward of the current model over the whole training set.

Building blocks used by :class:`~hf_s2l.TrajectoryCallback` and ``benchmarks/probe_throughput.py``:
length-sorted batching of a map-style dataset, collation with the Trainer's collator,
alignment of each row so it sees exactly what it would see alone, and the per-example loss of
:func:`~hf_s2l.record.losses.per_example_loss`.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import torch

from .guards import eval_mode, preserved_rng
from .losses import IGNORE_INDEX, per_example_loss

# Keys that are never model inputs in the probe forward (the loss is computed here).
_LABEL_KEYS = ("labels",)


class ProbeError(ValueError):
    """The training setup cannot be probed (iterable dataset, packed batches, no labels...)."""


# ---------------------------------------------------------------------------- dataset
def check_map_style(dataset: Any, mode: str = "probe") -> None:
    """Raise :class:`ProbeError` unless ``dataset`` is map-style (has ``__len__``/``__getitem__``)."""
    iterable = isinstance(dataset, torch.utils.data.IterableDataset)
    try:
        import datasets

        iterable = iterable or isinstance(dataset, datasets.IterableDataset)
    except ImportError:  # pragma: no cover
        pass
    if iterable or not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
        raise ProbeError(
            f"TrajectoryCallback(mode={mode!r}) needs a map-style training dataset (with len() and "
            f"indexing) to score every example; got {type(dataset).__name__}. Convert an "
            "IterableDataset (streaming) first, e.g. datasets.Dataset.from_generator(lambda: "
            "iter(stream)) or datasets.Dataset.from_list(list(stream.take(n))); in-step recording "
            "needs a map-style dataset too (its rows are the store's rows)."
        )


def _len(x: Any) -> int:
    if x is None:
        return 0
    if isinstance(x, torch.Tensor):
        return int(x.shape[-1]) if x.dim() else 1
    return len(x) if hasattr(x, "__len__") else 0  # a class label (sequence classification)


def example_lengths(dataset: Any) -> tuple[np.ndarray, np.ndarray]:
    """Length of ``input_ids`` and of ``labels`` of every example (int64 arrays, 0 if absent)."""
    n = len(dataset)
    try:
        import datasets
        import pyarrow as pa
        import pyarrow.compute as pc

        if isinstance(dataset, datasets.Dataset) and "input_ids" in dataset.column_names:
            arrow = dataset.with_format("arrow")
            inp = pc.list_value_length(arrow["input_ids"]).to_numpy(zero_copy_only=False)
            lab_col = arrow["labels"] if "labels" in dataset.column_names else None
            if lab_col is not None and pa.types.is_list(lab_col.type):  # not a class label
                lab = pc.list_value_length(lab_col).to_numpy(zero_copy_only=False)
            else:
                lab = np.zeros(n, dtype=np.int64)
            inp = np.nan_to_num(inp.astype(np.float64)).astype(np.int64)
            lab = np.nan_to_num(lab.astype(np.float64)).astype(np.int64)
            return inp, lab
    except (ImportError, TypeError, ValueError, KeyError, AttributeError):
        pass  # not list columns: fall back to reading the examples
    inp = np.zeros(n, dtype=np.int64)
    lab = np.zeros(n, dtype=np.int64)
    for i in range(n):
        ex = dataset[i]
        if isinstance(ex, Mapping):
            inp[i] = _len(ex.get("input_ids"))
            lab[i] = _len(ex.get("labels"))
    return inp, lab


def length_sorted_order(dataset: Any) -> np.ndarray:
    """Row indices, longest first (ties by index), so each batch pads little."""
    inp, lab = example_lengths(dataset)
    idx = np.arange(len(inp))
    return np.lexsort((idx, -lab, -inp)).astype(np.int64)


def shard_batches(
    order: np.ndarray, batch_size: int, rank: int = 0, world_size: int = 1
) -> list[np.ndarray]:
    """Split ``order`` into batches and keep every ``world_size``-th one from ``rank`` (disjoint)."""
    if batch_size <= 0:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    return batches[rank::world_size]


def lockstep_batches(
    order: np.ndarray, batch_size: int, rank: int = 0, world_size: int = 1
) -> list[tuple[np.ndarray, bool]]:
    """This rank's batches, the same number on every rank: ``[(row indices, real), ...]``.

    Batch ``r * world_size + rank`` in round ``r``, as :func:`shard_batches`; a rank that has
    run out in the last round gets a padding batch (``real=False``: the last, shortest batch
    of the pass) whose results are discarded. Every rank then calls the model equally often,
    which sharded models need (under FSDP / DeepSpeed ZeRO-3 every forward is a collective)
    and which keeps the per-round gathers of the results in step.
    """
    if batch_size <= 0:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    rounds = -(-len(batches) // world_size)
    out = []
    for r in range(rounds):
        i = r * world_size + rank
        out.append((batches[i], True) if i < len(batches) else (batches[-1], False))
    return out


def fetch(dataset: Any, indices: Sequence[int]) -> list[Any]:
    """The examples at ``indices`` as a list (what a DataLoader hands to its collate_fn)."""
    idx = [int(i) for i in indices]
    getitems = getattr(dataset, "__getitems__", None)
    if getitems is not None:
        return list(getitems(idx))
    return [dataset[i] for i in idx]


# ---------------------------------------------------------------------------- collator
def unwrap_collator(collate_fn: Any) -> Any:
    """The user's collator inside the Trainer's ``RemoveColumnsCollator`` (if wrapped)."""
    seen = 0
    while hasattr(collate_fn, "data_collator") and seen < 5:
        collate_fn = collate_fn.data_collator
        seen += 1
    return collate_fn


def check_collator(collate_fn: Callable | None) -> None:
    """Reject collators whose batches are not one row per example with a fixed target."""
    if collate_fn is None:
        raise ProbeError("the training dataloader has no collate_fn to build probe batches with")
    inner = unwrap_collator(collate_fn)
    if getattr(inner, "mlm", False):
        raise ProbeError(
            f"{type(inner).__name__}(mlm=True) masks tokens at random; per-example losses are only "
            "defined for fixed targets. Use mlm=False (causal LM) or a Seq2Seq collator."
        )
    if type(inner).__name__ == "DataCollatorWithFlattening":
        raise ProbeError(
            "DataCollatorWithFlattening concatenates a batch into one packed row; the probe pass "
            "needs one row per example. Use a padding collator (e.g. DataCollatorForSeq2Seq) for "
            "the proxy run, or record with TrajectoryCallback(mode='in_step')."
        )
    if getattr(inner, "padding_free", False):
        raise ProbeError(
            f"{type(inner).__name__}(padding_free=True) flattens a batch into one packed row; the "
            "probe pass needs one row per example. Disable padding_free/packing for the proxy run."
        )


# ---------------------------------------------------------------------------- model inputs
def unwrap_model(model: torch.nn.Module) -> torch.nn.Module:
    """The transformers model under DDP / PEFT / ``torch.compile`` wrappers (for config and
    signature lookups)."""
    m = model
    for _ in range(5):
        if hasattr(m, "module") and isinstance(m.module, torch.nn.Module):
            m = m.module
        elif isinstance(getattr(m, "_orig_mod", None), torch.nn.Module):
            m = m._orig_mod  # torch.compile(model): the OptimizedModule's original module
        elif hasattr(m, "get_base_model"):
            m = m.get_base_model()
        else:
            break
    return m


def is_encoder_decoder(model: torch.nn.Module) -> bool:
    return bool(getattr(getattr(unwrap_model(model), "config", None), "is_encoder_decoder", False))


def forward_parameters(model: torch.nn.Module) -> set[str]:
    """Named parameters of ``model.forward`` and of the base model's forward."""
    names: set[str] = set()
    for m in {id(model): model, id(unwrap_model(model)): unwrap_model(model)}.values():
        try:
            sig = inspect.signature(m.forward)
        except (TypeError, ValueError):  # pragma: no cover
            continue
        names |= {
            p.name
            for p in sig.parameters.values()
            if p.kind not in (inspect.Parameter.VAR_KEYWORD, inspect.Parameter.VAR_POSITIONAL)
        }
    return names


def forward_module(model: torch.nn.Module, trainer: Any = None) -> torch.nn.Module:
    """The module the probe pass calls: the engine's wrapper when parameters are sharded.

    Under DeepSpeed the Trainer's ``model`` (what callbacks receive) is the bare module and
    ``trainer.model_wrapped`` the ``DeepSpeedEngine`` around it: the probe calls the engine
    (its forward adds DeepSpeed's own autocast/compile contexts; ZeRO-3's parameter gathering
    hooks sit on the module either way). Under FSDP (v1 and 2) the Trainer's ``model``
    already is the wrapped model. Under DDP the bare model is called, as the Trainer's own
    evaluation does (a no-grad forward needs no gradient synchronisation). A model the user
    compiled (``torch.compile(model)``) is called through its original module: the same
    parameters, eagerly (no recompilation for the eval-mode, no-grad probe shapes).
    """
    if type(model).__name__ == "OptimizedModule" and isinstance(
        getattr(model, "_orig_mod", None), torch.nn.Module
    ):
        model = model._orig_mod
    if trainer is not None and (
        getattr(trainer, "is_deepspeed_enabled", False)
        or getattr(trainer, "is_fsdp_enabled", False)
    ):
        wrapped = getattr(trainer, "model_wrapped", None)
        if isinstance(wrapped, torch.nn.Module) and unwrap_model(wrapped) is unwrap_model(model):
            return wrapped
    return model


def model_device(model: torch.nn.Module) -> torch.device:
    try:
        emb = model.get_input_embeddings()
        return emb.weight.device
    except (AttributeError, NotImplementedError):
        return next(model.parameters()).device


def right_align(batch: dict[str, Any]) -> dict[str, Any]:
    """Move each row's padding to the right (causal LMs): rows then see positions ``0..L-1``.

    A left-padded row would otherwise get shifted position ids (rotary / learned positions
    come from the index, not the mask, in most models) and differ from the example alone.
    Raises :class:`ProbeError` for masks with holes (several sequences packed in one row).
    """
    mask = batch.get("attention_mask")
    if not isinstance(mask, torch.Tensor) or mask.dim() != 2:
        return batch
    m = mask != 0
    lead = (m.long().cumsum(1) == 0).sum(1)
    if bool((lead > 0).any()):
        length = m.shape[1]
        gather = (torch.arange(length, device=m.device)[None, :] + lead[:, None]) % length
        for k, v in list(batch.items()):
            if isinstance(v, torch.Tensor) and v.dim() == 2 and v.shape == mask.shape:
                batch[k] = torch.gather(v, 1, gather.to(v.device))
        m = batch["attention_mask"] != 0
    # valid: ones then zeros along every row
    if bool((m[:, 1:] & ~m[:, :-1]).any()):
        raise ProbeError(
            "the collator returned an attention mask with gaps (packed or padding-free batches); "
            "the probe pass needs one padded example per row. Disable packing for the proxy run."
        )
    return batch


def autocast_context(device: torch.device, bf16: bool = False, fp16: bool = False):
    """The Trainer's mixed precision (``args.bf16`` / ``args.fp16``) as an autocast context."""
    if not (bf16 or fp16):
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16 if bf16 else torch.float16)


class ProbeForward:
    """Computes per-example losses of collated batches with one batched no-grad forward."""

    def __init__(
        self,
        model: torch.nn.Module,
        *,
        bf16: bool = False,
        fp16: bool = False,
        device: torch.device | None = None,
        layout: str | None = None,
    ) -> None:
        from .label_layout import label_layout, shifts

        self.model = model
        self.encoder_decoder = is_encoder_decoder(model)
        self.layout = layout or label_layout(unwrap_model(model))
        self.shift = shifts(self.layout)
        self.params = forward_parameters(model)
        self.device = device if device is not None else model_device(model)
        self.bf16, self.fp16 = bf16, fp16
        self.dropped: set[str] = set()
        from .stacks import virtual_tokens

        self.virtual = virtual_tokens(model)  # PEFT prompt learning: logits start earlier

    def inputs(
        self, batch: Mapping[str, Any], num_examples: int, full: bool = False
    ) -> tuple[dict[str, Any], torch.Tensor]:
        """Model kwargs and labels (on the model's device) for one collated batch (``full``:
        logits at every position)."""
        if not isinstance(batch, Mapping):
            raise ProbeError(
                f"the collator returned a {type(batch).__name__}; the probe pass needs a dict with "
                "input_ids, attention_mask and labels"
            )
        labels = next((batch[k] for k in _LABEL_KEYS if k in batch), None)
        if not isinstance(labels, torch.Tensor):
            raise ProbeError(
                "the collator's batches have no 'labels' tensor; per-example losses need targets "
                "(e.g. DataCollatorForLanguageModeling(mlm=False) or DataCollatorForSeq2Seq)"
            )
        batch = {k: v for k, v in batch.items() if k not in _LABEL_KEYS}
        batch["labels"] = labels
        first = batch.get("input_ids", batch.get("inputs_embeds", labels))
        if first.shape[0] != num_examples or labels.shape[0] != num_examples:
            raise ProbeError(
                f"the collator turned {num_examples} examples into {first.shape[0]} rows (packing / "
                "padding-free flattening); the probe pass needs one row per example"
            )
        if not self.encoder_decoder:
            batch = right_align(batch)
        labels = batch.pop("labels").to(self.device)
        kwargs: dict[str, Any] = {}
        for k, v in batch.items():
            if k in self.params:
                kwargs[k] = v.to(self.device) if isinstance(v, torch.Tensor) else v
            else:
                self.dropped.add(k)
        if self.encoder_decoder and "decoder_input_ids" not in kwargs:
            base = unwrap_model(self.model)
            if hasattr(base, "prepare_decoder_input_ids_from_labels"):
                kwargs["decoder_input_ids"] = base.prepare_decoder_input_ids_from_labels(
                    labels=labels
                )
            else:  # let the model derive them from the labels
                kwargs["labels"] = labels
        if "use_cache" in self.params:
            kwargs["use_cache"] = False
        if (
            self.shift
            and not full
            and not self.virtual
            and "logits_to_keep" in self.params
            and labels.dim() == 2
        ):
            # Positions before the first target of every row (masked prompts) need no
            # logits: keep the last k positions only (the LM head and softmax dominate).
            targets = (labels[:, 1:] != IGNORE_INDEX).any(dim=0)
            if bool(targets.any()):
                first = int(targets.nonzero()[0])  # position `first` predicts label first + 1
                keep = labels.shape[1] - first
                if keep < labels.shape[1]:
                    kwargs["logits_to_keep"] = keep
                    labels = labels[:, first:]
        return kwargs, labels

    @torch.no_grad()
    def __call__(
        self, batch: Mapping[str, Any], num_examples: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(loss, num_tokens)`` of every row: float32 (NaN if no target) and int64 arrays."""
        from .model_output import output_logits

        kwargs, labels = self.inputs(batch, num_examples)
        with autocast_context(self.device, self.bf16, self.fp16):
            out = self.model(**kwargs)
        logits = output_logits(out, labels.shape[0])
        if logits is None:
            raise ProbeError(
                f"the probe forward of {type(unwrap_model(self.model)).__name__} returned "
                f"{type(out).__name__} with no logits (a ModelOutput with .logits, or a tuple "
                "holding a B x L x V tensor); the probe needs them to score each example"
            )
        loss, counts = per_example_loss(logits, labels, shift=self.shift)
        return loss.cpu().numpy(), counts.cpu().numpy()

    @torch.no_grad()
    def reference(self, batch: Mapping[str, Any], num_examples: int) -> tuple[Any, torch.Tensor]:
        """``(model output, labels)`` of one batch forwarded WITH its labels (the model's own
        loss, for the self-check) and logits at every position."""
        kwargs, labels = self.inputs(batch, num_examples, full=True)
        if "labels" in self.params:
            kwargs["labels"] = labels
        with autocast_context(self.device, self.bf16, self.fp16):
            return self.model(**kwargs), labels


def probe_batches(
    dataset: Any,
    collate_fn: Callable[[list[Any]], Any],
    batches: Sequence[np.ndarray],
) -> Iterator[tuple[np.ndarray, Any]]:
    """Yield ``(row indices, collated batch)`` for each batch of indices."""
    for idx in batches:
        yield idx, collate_fn(fetch(dataset, idx))


def no_target_count(counts: np.ndarray) -> int:
    return int((np.asarray(counts) == 0).sum())


__all__ = [
    "IGNORE_INDEX",
    "ProbeError",
    "ProbeForward",
    "check_collator",
    "check_map_style",
    "eval_mode",
    "example_lengths",
    "forward_module",
    "length_sorted_order",
    "lockstep_batches",
    "preserved_rng",
    "probe_batches",
    "right_align",
    "shard_batches",
]
