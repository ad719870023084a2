"""Content keys used by in-step recording to map batch items back to dataset rows."""

from __future__ import annotations

import numpy as np

from hf_s2l.record.in_step_hash import ContentTable, dataset_keys, hash_rows, hash_segments

PAD = 0


def _key(tokens, mask=None, pad=PAD):
    h1, h2, n = hash_rows([np.asarray(tokens)], None if mask is None else [mask], pad)
    return int(h1[0]), int(h2[0]), int(n[0])


def test_padding_and_mask_normalised_on_both_sides():
    row = [5, 6, 7, PAD]  # ends with EOS == PAD (common: pad_token = eos_token)
    k = _key(row)
    assert k[2] == 3
    assert _key(row + [PAD, PAD]) == k  # right padding without a mask
    assert _key([PAD, PAD] + row) == k  # left padding without a mask
    assert _key([9, 9] + row, mask=[0, 0, 1, 1, 1, 1]) == k  # masked-out tokens dropped
    assert _key([5, 7, 6, PAD]) != k  # order matters
    assert _key([5, 6]) != k
    assert _key([PAD, PAD])[2] == 0  # pure padding: no key


def test_packed_segments_match_rows():
    rows = [[3, 4, 5], [6, 7], [3, 4, 5]]
    flat = np.array(sum(rows, []))
    starts = np.array([0, 3, 5])
    seg = hash_segments(flat, starts, None, PAD)
    each = hash_rows([np.array(r) for r in rows], None, PAD)
    for a, b in zip(seg, each):
        assert np.array_equal(a, b)


def test_table_groups_duplicates_in_index_order_and_generic_dataset():
    items = [
        {"input_ids": [3, 4, 5]},
        {"input_ids": [6, 7]},
        {"input_ids": [3, 4, 5]},
        {"input_ids": []},
    ]
    table = ContentTable(*dataset_keys(items, PAD))  # a plain list: the generic path
    assert table.num_groups == 2 and table.unkeyed.tolist() == [3]
    h1, h2, _ = hash_rows([np.array([6, 7, PAD]), np.array([3, 4, 5]), np.array([8])], None, PAD)
    g = table.lookup(h1, h2)
    assert g[2] == -1
    assert table.group_rows(int(g[1])).tolist() == [0, 2]
    assert table.group_rows(int(g[0])).tolist() == [1]


def test_arrow_and_generic_paths_agree(math_tokenized):
    ds = math_tokenized.select(range(40)).flatten_indices()
    fast = dataset_keys(ds, PAD)
    slow = dataset_keys([ds[i] for i in range(len(ds))], PAD)
    for a, b in zip(fast, slow):
        assert np.array_equal(a, b)
