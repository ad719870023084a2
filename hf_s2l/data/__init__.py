"""Data: preparing rows for the recorder (SFT format) and the target's training set restricted
to a selection, aligned through stable ids."""

from .alignment import Alignment, AlignmentError, align
from .ids import DEFAULT_ID_COLUMN, add_example_ids, content_fingerprint, row_hash
from .loading import load_any_dataset
from .provenance import card_provenance, selection_provenance
from .selected_dataset import SelectedDataset, curriculum_trainer, inverse_frequency_weights
from .sft import ALPACA_PROMPT, ALPACA_PROMPT_INPUT, format_prompt, tokenize_sft

__all__ = [
    "ALPACA_PROMPT",
    "ALPACA_PROMPT_INPUT",
    "DEFAULT_ID_COLUMN",
    "Alignment",
    "AlignmentError",
    "SelectedDataset",
    "add_example_ids",
    "align",
    "card_provenance",
    "content_fingerprint",
    "curriculum_trainer",
    "format_prompt",
    "inverse_frequency_weights",
    "load_any_dataset",
    "row_hash",
    "selection_provenance",
    "tokenize_sft",
]
