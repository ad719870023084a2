"""Progress bars written to a non-terminal (a log file, a pipe, CI) stay clean (issue 24):
the probe bar opens beside the Trainer's own bar, and nested tqdm bars redraw with cursor
movements (``ESC[A``) that a log file keeps as garbage lines. Off stderr terminals the
library's bars are off (``tqdm(disable=None)``)."""

from __future__ import annotations

from transformers import DataCollatorForSeq2Seq, Trainer

from hf_s2l import TrajectoryCallback, TrajectoryStore
from hf_s2l.record import attach


def test_probe_bar_writes_no_cursor_moves_to_a_non_terminal(
    tmp_path, record_ds, tokenizer, make_causal_lm, helpers, capfd
):
    trainer = Trainer(
        model=make_causal_lm(),
        args=helpers.training_args(tmp_path / "run", max_steps=2, disable_tqdm=False),
        train_dataset=record_ds.select(range(16)),
        data_collator=DataCollatorForSeq2Seq(tokenizer, padding=True),
    )
    attach(trainer, TrajectoryCallback(tmp_path / "traj", num_points=1, batch_size=8))
    trainer.train()
    err = capfd.readouterr().err
    assert "\x1b[A" not in err, err[-500:]
    assert TrajectoryStore.open(tmp_path / "traj").complete_columns().tolist() == [0, 1]
