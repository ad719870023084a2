"""README steps 1-3 with ``mode="in_step"``: the in-step path the README recommends for S2L.

The python blocks of "1. Record", "2. Select" and "3. Train the target" run as written (same
name substitutions and stand-ins as tests/test_readme.py), with ONE change: the callback of
step 1 gets ``mode="in_step"``. Step 2 then selects per ``source`` on the in-step store and
step 3 maps the selection through ``id_column`` — both need the store's metadata and ids.
The ``official=True`` block needs probe points and must stop with a clear error here.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.test_readme import (
    README,
    SUBSTITUTIONS,
    readme_blocks,
    stand_ins,  # noqa: F401 - the fixture
    substitute,
)

RECORD_ARG = '"proxy-out/trajectories",'
IN_STEP_ARG = '"proxy-out/trajectories", mode="in_step",'


def steps_1_to_3() -> list[tuple[int, str]]:
    """``(line, code)`` of the python blocks before the "### 4." heading."""
    text = README.read_text()
    end = text[: text.index("\n### 4.")].count("\n") + 1
    start = text[: text.index("\n### 1.")].count("\n") + 1
    return [
        (line, code)
        for lang, line, code in readme_blocks(text)
        if lang == "python" and start < line < end
    ]


def test_in_step_substitution_applies_once():
    blocks = steps_1_to_3()
    assert len(blocks) >= 4
    assert sum(code.count(RECORD_ARG) for _, code in blocks) == 1, (
        "README step 1 no longer names the store as tests/test_readme_in_step.py expects"
    )


@pytest.mark.slow
def test_readme_steps_1_to_3_in_step(stand_ins, monkeypatch):  # noqa: F811
    import hf_s2l

    monkeypatch.chdir(stand_ins)
    namespace: dict = {"__name__": "readme_in_step"}
    for line, code in steps_1_to_3():
        if "official=True" in code:  # needs probe points; the README says so
            with pytest.raises(ValueError, match="official=True"):
                exec(compile(code, f"README.md:{line}", "exec"), dict(namespace))  # noqa: S102
            continue
        code = substitute(code, SUBSTITUTIONS).replace(RECORD_ARG, IN_STEP_ARG)
        exec(compile(code, f"README.md:{line}", "exec"), namespace)  # noqa: S102

    store = hf_s2l.TrajectoryStore.open(stand_ins / "proxy-out" / "trajectories")
    assert store.mode == "in_step" and store.num_examples == 80
    assert len(store.complete_columns()) == 3  # one column per epoch, all complete
    assert not np.isnan(np.asarray(store.losses)).any()
    assert "source" in store.metadata_columns and store.example_ids is not None
    sel = hf_s2l.Selection.load(stand_ins / "selection-s2l-30")
    assert len(sel) == 24
    assert len(namespace["selected"]) == 24
    assert namespace["selected"].alignment.method == "id_column"
    assert len(namespace["hardest"]) == 8
    assert (stand_ins / "target-out").is_dir()
    assert (stand_ins / "math-s2l-30" / "README.md").is_file()
