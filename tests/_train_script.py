"""Shared set-up of the subprocess training scripts (tests/record/*_train*.py, fsdp_record.py,
tests/store/two_writers_train.py) and of the tests that start them.

Scripts: ``from tests._train_script import ...`` (the repository is on ``PYTHONPATH``, see
:func:`subprocess_env`, which also sets ``OMP_NUM_THREADS=1``).

* :func:`load_data`, :func:`load_tokenizer`, :func:`world_size`;
* :func:`tiny_trainer` — the tiny-model ``Trainer`` every script builds (CPU, no reporting,
  seed 0, ``DataCollatorForSeq2Seq``), with per-script ``TrainingArguments`` overrides;
* :func:`die_mid_column` — kill the process half-way through writing one store column;
* :func:`subprocess_env`, :func:`run_subprocess`, :func:`stop` — start scripts from a test
  (own process group, killed as a whole on timeout).
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def world_size() -> int:
    """``WORLD_SIZE`` set by torchrun (1 when run with plain python)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def load_data(data_dir: str | Path) -> Any:
    import datasets

    return datasets.load_from_disk(str(data_dir))


def load_tokenizer(tok_dir: str | Path) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(tok_dir))


def tiny_trainer(
    data_dir: str | Path,
    tok_dir: str | Path,
    run_dir: str | Path,
    *,
    callbacks: list[Any],
    family: str = "gpt_neox",
    dataset: Any = None,
    **args_overrides: Any,
) -> Any:
    """A ``Trainer`` of a tiny ``family`` model (hidden 32, 2 layers) on the saved dataset.

    ``TrainingArguments`` defaults: ``use_cpu``, no reporting, no tqdm, seed 0, learning rate
    5e-3, and under torchrun the gloo backend; ``args_overrides`` set the rest.
    """
    import torch
    from transformers import DataCollatorForSeq2Seq, Trainer, TrainingArguments

    from hf_s2l.experiments.tiny import tiny_model

    torch.set_num_threads(1)

    ds = load_data(data_dir) if dataset is None else dataset
    tok = load_tokenizer(tok_dir)
    model = tiny_model(family=family, vocab_size=len(tok), hidden_size=32, num_layers=2)
    kw: dict[str, Any] = dict(
        output_dir=str(run_dir),
        learning_rate=5e-3,
        report_to=[],
        disable_tqdm=True,
        use_cpu=True,
        seed=0,
    )
    if world_size() > 1:
        kw["ddp_backend"] = "gloo"
    kw.update(args_overrides)
    return Trainer(
        model=model,
        args=TrainingArguments(**kw),
        train_dataset=ds,
        data_collator=DataCollatorForSeq2Seq(tok, padding=True),
        callbacks=callbacks,
    )


def die_mid_column(step: int, code: int = 3, after_writes: int = 2) -> None:
    """Exit the process (``os._exit(code)``) after the ``after_writes``-th write into the
    column of ``step`` (patches ``TrajectoryStore.write`` in this process)."""
    from hf_s2l import TrajectoryStore

    original = TrajectoryStore.write
    writes = [0]

    def write(self, column, indices, values, **kw):
        original(self, column, indices, values, **kw)
        if self.columns[column]["global_step"] == step:
            writes[0] += 1
            if writes[0] == after_writes:
                os._exit(code)

    TrajectoryStore.write = write


def subprocess_env() -> dict[str, str]:
    """The environment of a training script: repository importable, offline, one thread."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.update(
        HF_HUB_OFFLINE="1",
        HF_DATASETS_OFFLINE="1",
        WANDB_DISABLED="true",
        OMP_NUM_THREADS="1",
        TOKENIZERS_PARALLELISM="false",
    )
    return env


def stop(proc: subprocess.Popen) -> tuple[str, str]:
    """Stop ``proc``'s process group; return what it printed.

    SIGTERM first: torchrun starts its workers in their own sessions and stops them on
    SIGTERM (a SIGKILL would orphan them, and they would keep the output pipes open).
    """
    for sig, wait in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            return proc.communicate(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
    return "", "(output lost: a child process still holds the pipes)"


def run_subprocess(cmd, env, cwd, timeout: float = 240, expect_rc: int | None = 0):
    """Run ``cmd`` in its own process group (killed as a whole on timeout); return it."""
    proc = subprocess.Popen(
        [str(c) for c in cmd],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        out, err = stop(proc)
        raise AssertionError(
            f"timed out after {timeout}s: {cmd}\n{out[-3000:]}\n{err[-6000:]}"
        ) from None
    if expect_rc is not None:
        assert proc.returncode == expect_rc, (
            f"{cmd} exited {proc.returncode}:\n{out[-3000:]}\n{err[-6000:]}"
        )
    return proc.returncode, out, err
