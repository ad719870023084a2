"""``has_target``: the "does this row have a target token" rule agrees with the loss."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hf_s2l.record import has_target, per_example_loss


def test_has_target_shift_rule():
    assert not has_target([5, -100, -100])  # label 0 is never predicted by a causal LM
    assert has_target([5, -100, -100], shift=False)  # encoder-decoder: every label counts
    assert has_target([-100, -100, 7])
    assert not has_target([-100, -100, -100], shift=False)
    assert not has_target([])
    assert has_target(torch.tensor([-100, 3])) and has_target(np.array([-100, 3]))
    with pytest.raises(ValueError, match="1-D"):
        has_target([[1, 2], [3, 4]])


@pytest.mark.parametrize("shift", [True, False])
def test_has_target_is_where_the_loss_is_finite(shift):
    g = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 11, (64, 5), generator=g)
    labels[torch.rand(64, 5, generator=g) < 0.7] = -100
    logits = torch.randn(64, 5, 11, generator=g)
    loss, counts = per_example_loss(logits, labels, shift=shift)
    rule = [has_target(row, shift=shift) for row in labels]
    assert rule == torch.isfinite(loss).tolist() == (counts > 0).tolist()
    assert 0 < sum(rule) < 64  # both cases occur
