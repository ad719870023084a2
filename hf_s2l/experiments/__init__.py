"""Experiments: what is not needed to use the library, kept apart from the core.

- :mod:`.loop` — the proxy → select → target loop shared by the demo, the recipes
  (``recipes/common/pipeline.py``) and the data-efficiency benchmark;
- :mod:`.demo` — ``hf-s2l demo`` (:func:`~hf_s2l.experiments.demo.run_demo`);
- :mod:`.tiny` — tiny models and tokenizers built offline (tests, demo, smoke runs);
- :mod:`.corpora` — loaders of the open data;
- :mod:`.eval` — math answer checking and clinical summary metrics;
- :mod:`.heldout` — the held-out answer-token loss; :mod:`.quiet` — quiet Trainer logs.

The core (store, record, selection, hub, data, report, transfer_check) never imports this
package; import these modules as ``hf_s2l.experiments.<name>`` (the old re-export paths
``hf_s2l.demo``, ``hf_s2l.tiny``, ``hf_s2l.corpora`` and ``hf_s2l.eval`` were removed, issue
27). SFT formatting is in the core: :func:`hf_s2l.tokenize_sft`.
"""
