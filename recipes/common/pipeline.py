"""The recipe pipeline: proxy training with the callback → selection → target training → eval.

Runs under ``accelerate launch`` (or plain ``python``). Every stage can be run on its own
(``--stages proxy``), each reading the previous one's outputs from ``output_dir``::

    output_dir/
      models/            smoke mode only: the tiny local stand-ins (saved, then loaded by path)
      store/             the proxy's TrajectoryStore
      selections/<run>/  one Selection per method x budget
      target/<run>/      the target model trained on that selection (or on the full data)
      eval/<run>.jsonl   generations;  results.md / results.json: the table

The target's training sets are built by the loop shared with the demo and the benchmark
(:func:`hf_s2l.experiments.loop.target_dataset`: through ``SelectedDataset``, by example id).
"""

from __future__ import annotations

import gc
import json
from pathlib import Path
from typing import Any

from transformers.utils import logging

from .config import RECIPES_DIR, RecipeConfig, check_data_root, parse_config
from .models import (
    build_smoke_bertscore_model,
    build_smoke_model,
    load_causal_lm,
    load_tokenizer,
    maybe_lora,
)

logger = logging.get_logger(__name__)


# ------------------------------------------------------------------------------ helpers
def _budget(b: float) -> int | float:
    return int(b) if b >= 1 else float(b)


def _budget_label(b: float) -> str:
    return str(int(b)) if b >= 1 else f"{round(100 * b)}pct"


def run_names(cfg: RecipeConfig) -> list[tuple[str, str, str | None, int | float]]:
    """(run name, method, LP variant, budget) for every selection of the config."""
    runs = []
    for method in cfg.selection.methods:
        variants: list[str | None] = list(cfg.selection.lp_variants) if method == "lp" else [None]
        for variant in variants:
            for b in cfg.selection.budgets:
                name = f"{variant or method}-{_budget_label(b)}"
                runs.append((name, method, variant, _budget(b)))
    return runs


def _texts_for_tokenizer(ds) -> list[str]:
    from hf_s2l import format_prompt

    return [format_prompt(r["instruction"], r.get("input")) + " " + str(r["output"]) for r in ds]


def _tokenize(ds, tokenizer, cfg: RecipeConfig, keep: list[str]):
    from hf_s2l import tokenize_sft

    return ds.map(
        tokenize_sft,
        fn_kwargs={
            "tokenizer": tokenizer,
            "max_length": cfg.data.max_length,
            "input_column": "input" if "input" in ds.column_names else None,
        },
        remove_columns=[c for c in ds.column_names if c not in keep],
        desc="tokenize",
    )


def _training_args(cfg: RecipeConfig, role: str, output_dir: Path):
    from transformers import TrainingArguments

    t = cfg.train
    p = "proxy_" if role == "proxy" else "target_"
    fields = TrainingArguments.__dataclass_fields__
    extra: dict[str, Any] = {}
    # transformers v5 renamed / folded a few arguments; support both spellings
    if "warmup_ratio" in fields:
        extra["warmup_ratio"] = t.warmup_ratio
    else:  # v5: a float in [0, 1) is a ratio of the total steps
        extra["warmup_steps"] = t.warmup_ratio
    if t.gradient_checkpointing and role == "target":
        key = (
            "activation_checkpointing"
            if "activation_checkpointing" in fields
            else "gradient_checkpointing"
        )
        extra[key] = True
    return TrainingArguments(
        output_dir=str(output_dir),
        num_train_epochs=getattr(t, p + "epochs"),
        learning_rate=getattr(t, p + "learning_rate"),
        per_device_train_batch_size=getattr(t, p + "batch_size"),
        per_device_eval_batch_size=cfg.eval.eval_batch_size,
        gradient_accumulation_steps=getattr(t, p + "gradient_accumulation_steps"),
        weight_decay=t.weight_decay,
        lr_scheduler_type=t.lr_scheduler_type,
        bf16=t.bf16 and not cfg.run.smoke,
        logging_steps=t.logging_steps,
        save_strategy="no",
        report_to=t.report_to,
        seed=cfg.run.seed,
        use_cpu=cfg.run.smoke,
        ddp_find_unused_parameters=False,
        dataloader_num_workers=0,
        disable_tqdm=cfg.run.smoke,
        **extra,
    )


def _collator(tokenizer):
    from transformers import DataCollatorForSeq2Seq

    return DataCollatorForSeq2Seq(tokenizer, padding=True, label_pad_token_id=-100)


def _free() -> None:
    """Release memory after the caller dropped its references (between target runs)."""
    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


# ------------------------------------------------------------------------------ stages
class Recipe:
    """One recipe run: holds the config, the data and the process state."""

    def __init__(self, cfg: RecipeConfig) -> None:
        from accelerate import PartialState

        from hf_s2l import add_example_ids

        from .data import load_train_data, split_train_eval

        self.cfg = cfg
        # smoke mode runs on the CPU; with several ranks (torchrun / accelerate's multi-process
        # launcher) this makes them a MULTI_CPU (gloo) group, as the Trainer expects
        self.state = PartialState(cpu=cfg.run.smoke)
        self.out = Path(cfg.run.output_dir)
        raw = add_example_ids(load_train_data(cfg))
        self.train_raw, self.heldout = split_train_eval(raw, cfg)
        self.group = cfg.data.group_column
        if self.group and self.group not in self.train_raw.column_names:
            self.group = None
        self.proxy_path, self.target_path = cfg.model.proxy_model, cfg.model.target_model
        self.bertscore_model = cfg.eval.bertscore_model
        self.bertscore_layers = cfg.eval.bertscore_num_layers
        if cfg.run.smoke:
            self._build_smoke_models()
        self.log(
            f"{self.state.num_processes} process(es), {self.state.distributed_type.value}, "
            f"device {self.state.device}"
        )
        self.log(
            f"{cfg.run.task}: {len(self.train_raw)} training rows, "
            f"{0 if self.heldout is None else len(self.heldout)} held out; "
            f"proxy={self.proxy_path} target={self.target_path}"
        )

    def log(self, msg: str) -> None:
        if self.state.is_main_process:
            print(f"[hf-s2l recipe] {msg}", flush=True)

    def _build_smoke_models(self) -> None:
        m, models = self.cfg.model, self.out / "models"
        texts = _texts_for_tokenizer(self.train_raw)
        with self.state.main_process_first():
            # different vocab sizes: the target's tokenisation differs from the proxy's,
            # so the selection must be mapped through example ids (as with real models)
            kw = dict(hidden_size=m.smoke_hidden_size, num_layers=m.smoke_num_layers)
            self.proxy_path = build_smoke_model(
                m.proxy_model, texts, models / "proxy", vocab_size=m.smoke_vocab_size, **kw
            )
            self.target_path = build_smoke_model(
                m.target_model, texts, models / "target", vocab_size=m.smoke_vocab_size + 128, **kw
            )
            if self.cfg.run.task == "clinical":
                self.bertscore_model = build_smoke_bertscore_model(texts, models / "bertscore")
                self.bertscore_layers = 2

    # -- stage 1
    def train_proxy(self) -> None:
        from transformers import Trainer

        import hf_s2l

        cfg, store_dir = self.cfg, self.out / "store"
        tok = load_tokenizer(self.proxy_path, "proxy")
        model = load_causal_lm(self.proxy_path, "proxy", cfg.model.torch_dtype)
        keep = ["example_id"] + ([self.group] if self.group else [])
        # rows without an answer token (hf_s2l.experiments.loop.has_target false: the prompt
        # fills max_length) stay: the probe records NaN for them and selection's ``unscored``
        # policy leaves them out; dropping them here would make the proxy's rows depend on its
        # tokenizer (the target's differs)
        train = _tokenize(self.train_raw, tok, cfg, keep)
        s = cfg.selection
        schedule = hf_s2l.RecordingSchedule(
            at_train_begin=s.record_at_train_begin,
            at_epoch_end=s.record_at_epoch_end,
            num_points=s.record_num_points,
            every_n_steps=s.record_every_n_steps,
        )
        callback = hf_s2l.TrajectoryCallback(
            str(store_dir),
            schedule=schedule,
            batch_size=s.record_batch_size,
            id_column="example_id",
            metadata_columns=(self.group,) if self.group else (),
            overwrite=cfg.run.overwrite,
        )
        trainer = Trainer(
            model=model,
            args=_training_args(cfg, "proxy", self.out / "proxy"),
            train_dataset=train,
            data_collator=_collator(tok),
            processing_class=tok,
            callbacks=[callback],
        )
        trainer.train()
        self.log(f"proxy trained; trajectory store at {store_dir}")
        del trainer, model
        _free()

    # -- stage 2
    def select(self) -> None:
        import hf_s2l

        cfg = self.cfg
        if self.state.is_main_process:
            store = hf_s2l.TrajectoryStore.open(self.out / "store")
            index = {}
            for name, method, variant, budget in run_names(cfg):
                params: dict[str, Any] = {}
                kwargs: dict[str, Any] = {}
                if method == "s2l":
                    params["num_clusters"] = cfg.selection.num_clusters
                    if self.group and cfg.selection.stratify_by_group:
                        kwargs["by_column"] = self.group
                if variant is not None:
                    params["variant"] = variant
                if method == "lp":
                    sel = self._select_lp(store, budget, params)
                else:
                    sel = hf_s2l.select(
                        store, method, budget, seed=cfg.run.seed, **kwargs, **params
                    )
                sel.save(self.out / "selections" / name)
                index[name] = {"method": method, "variant": variant, "budget": len(sel)}
                self.log(f"selection {name}: {len(sel)} of {store.num_examples} examples")
            (self.out / "selections" / "index.json").write_text(json.dumps(index, indent=2))
        self.state.wait_for_everyone()

    def _select_lp(self, store: Any, budget: int | float, params: dict[str, Any]) -> Any:
        """The official LP selection: per k-means cluster (sklearn, ``random_state=42``) of the
        all-MiniLM-L6-v2 embeddings of the training rows (the ``clustering.py`` sentence),
        embedded once per run and shared by the LP variants and budgets."""
        import hf_s2l
        from hf_s2l.selection import official_lp_subset
        from hf_s2l.selection.embeddings import embed_texts, official_embedding_text

        s = self.cfg.selection
        if getattr(self, "_lp_embeddings", None) is None:
            texts = [official_embedding_text(row) for row in self.train_raw]
            self._lp_embeddings = embed_texts(texts)
        params = {**params, "num_clusters": s.lp_num_clusters}
        seed, emb = self.cfg.run.seed, self._lp_embeddings
        if s.lp_cluster_sizes == "official":
            frac = budget if isinstance(budget, float) else budget / len(emb)
            return official_lp_subset(store, round(100 * frac), seed=seed, embeddings=emb, **params)
        return hf_s2l.select(store, "lp", budget, seed=seed, embeddings=emb, **params)

    def target_runs(self) -> list[str]:
        names = [n for n, *_ in run_names(self.cfg)]
        return (["full"] if self.cfg.selection.train_full else []) + names

    # -- stage 3
    def train_targets(self) -> None:
        from transformers import Trainer

        import hf_s2l
        from hf_s2l.experiments.loop import target_dataset

        cfg, m = self.cfg, self.cfg.model
        tok = load_tokenizer(self.target_path, "target")
        full = _tokenize(self.train_raw, tok, cfg, keep=["example_id"])
        for name in self.target_runs():
            selection = (
                None if name == "full" else hf_s2l.Selection.load(self.out / "selections" / name)
            )
            # proxy and target tokenizers differ: the rows are matched by example id
            train = target_dataset(full, selection, id_column="example_id")
            model = load_causal_lm(self.target_path, "target", m.torch_dtype)
            model = maybe_lora(
                model, m.use_lora, m.lora_r, m.lora_alpha, m.lora_dropout, m.lora_target_modules
            )
            trainer = Trainer(
                model=model,
                args=_training_args(cfg, "target", self.out / "target" / name),
                train_dataset=train,
                data_collator=_collator(tok),
                processing_class=tok,
            )
            trainer.train()
            trainer.save_model(str(self.out / "target" / name))
            self.log(f"target {name}: trained on {len(train)} examples")
            del trainer, model
        _free()

    # -- stage 4
    def evaluate(self) -> dict[str, dict[str, Any]]:
        from hf_s2l import format_prompt

        from .data import load_math_eval_set
        from .evaluation import generate
        from .results import write_results

        cfg, e = self.cfg, self.cfg.eval
        results: dict[str, dict[str, Any]] = {}
        evalsets: dict[str, tuple[list[str], list[str]]] = {}
        if cfg.run.task == "math":
            for name in cfg.data.eval_sets:
                ds = load_math_eval_set(cfg.data.data_root, name, cfg.data.max_eval_samples)
                evalsets[name] = ([format_prompt(q) for q in ds["question"]], list(ds["answer"]))
        else:
            if self.heldout is None:
                raise ValueError("set eval_holdout > 0: rows held out of training to evaluate on")
            prompts = [format_prompt(r["instruction"], r.get("input")) for r in self.heldout]
            evalsets["heldout"] = (prompts, list(self.heldout["output"]))
        for run in self.target_runs():
            path = str(self.out / "target" / run)
            tok = load_tokenizer(path, "target", padding_side="left")
            model = load_causal_lm(path, "target", cfg.model.torch_dtype)
            row: dict[str, Any] = {}
            for set_name, (prompts, refs) in evalsets.items():
                outs = generate(
                    model,
                    tok,
                    prompts,
                    max_new_tokens=e.max_new_tokens,
                    batch_size=e.eval_batch_size,
                    state=self.state,
                )
                if self.state.is_main_process:
                    (self.out / "eval").mkdir(parents=True, exist_ok=True)
                    with open(self.out / "eval" / f"{run}.{set_name}.jsonl", "w") as f:
                        for p, o, r in zip(prompts, outs, refs):
                            f.write(json.dumps({"prompt": p, "output": o, "reference": r}) + "\n")
                    row.update(self._score(set_name, outs, refs))
            if self.state.is_main_process:
                sel_file = self.out / "selections" / "index.json"
                if run != "full" and sel_file.exists():
                    row["examples"] = json.loads(sel_file.read_text())[run]["budget"]
                elif run == "full":
                    row["examples"] = len(self.train_raw)
                results[run] = row
            del model
            _free()
        if self.state.is_main_process:
            metric_cols = sorted({k for r in results.values() for k in r} - {"examples"})
            if cfg.run.task == "math":
                metric_cols = [c for c in cfg.data.eval_sets if c in metric_cols]
            average = list(cfg.data.eval_sets) if cfg.run.task == "math" else None
            md = write_results(
                self.out,
                results,
                columns=["examples", *metric_cols],
                average=average,
                title=f"{cfg.run.task} recipe results ({'smoke' if cfg.run.smoke else 'full'})",
            )
            print(md.read_text(), flush=True)
        self.state.wait_for_everyone()
        return results

    def _score(self, set_name: str, outs: list[str], refs: list[str]) -> dict[str, float]:
        task = self.cfg.run.task
        if task == "math":
            from .evaluation import score_math

            return {set_name: score_math(outs, refs)}
        from hf_s2l.experiments.eval import clinical_metrics

        if task == "clinical":
            return clinical_metrics(
                outs,
                refs,
                bertscore_model=self.bertscore_model,
                bertscore_num_layers=self.bertscore_layers,
            )
        return clinical_metrics(outs, refs, metrics=["rouge_l", "bleu"])


def run_recipe(argv: list[str] | None = None) -> dict[str, Any]:
    """Parse the config and run the requested stages; returns the results (main process)."""
    import time

    cfg = parse_config(argv)
    check_data_root(cfg)  # before any model is loaded or trained
    t0 = time.perf_counter()
    recipe = Recipe(cfg)
    if recipe.state.is_main_process:
        recipe.out.mkdir(parents=True, exist_ok=True)
        (recipe.out / "config.json").write_text(json.dumps(cfg.to_dict(), indent=2))
    results: dict[str, Any] = {}
    if "proxy" in cfg.run.stages:
        recipe.train_proxy()
    if "select" in cfg.run.stages:
        recipe.select()
    if "target" in cfg.run.stages:
        recipe.train_targets()
    if "eval" in cfg.run.stages:
        results = recipe.evaluate()
    recipe.log(f"done in {time.perf_counter() - t0:.1f}s; outputs in {recipe.out}")
    return results


def recipe_main(argv: list[str]) -> None:
    """``recipes/run.py CONFIG.yaml [--flag value ...]`` (or ``--config CONFIG.yaml``): the
    config is the recipe; it names its ``task``. Then :func:`run_recipe`."""
    if argv and not argv[0].startswith("-"):
        argv = ["--config", argv[0], *argv[1:]]
    if not any(a == "--config" or a.startswith("--config=") for a in argv):
        configs = sorted(
            p.relative_to(RECIPES_DIR).as_posix() for p in RECIPES_DIR.glob("*/configs/*.yaml")
        )
        raise SystemExit(
            "usage: recipes/run.py CONFIG.yaml [--flag value ...]\n"
            "the recipe is its config; those of the recipes (in recipes/):\n  "
            + "\n  ".join(configs)
        )
    run_recipe(argv)
