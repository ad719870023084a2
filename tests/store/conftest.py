"""The recording fixtures (tokenized math rows, tokenizer, helpers) for the store tests."""

from tests.record.conftest import helpers, record_ds, record_full, record_raw  # noqa: F401
