"""README.md runs as written: every ```python block, in order, in one namespace, and every
``hf-s2l`` command of its ```bash blocks, in document order.

Only model and data NAMES are substituted (:data:`SUBSTITUTIONS`): the Hub ids become local
directories holding a tiny model of the same family with a tokenizer trained on the spot
(GPT-NeoX for Pythia, Phi for Phi-2, each with its own vocabulary) and a folder with a
``train.jsonl`` of committed math rows in MathInstruct's columns. ``from_pretrained(dir)``
and ``load_dataset(dir)`` are the libraries' real code paths.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"

# Hub name in the README -> name of the local stand-in built by the `stand_ins` fixture
SUBSTITUTIONS = {
    "EleutherAI/pythia-70m-deduped": "tiny-pythia",
    "microsoft/phi-2": "tiny-phi",
    "TIGER-Lab/MathInstruct": "math-instruct",
    # The one non-name substitution: official=True raises, as the official code does, when a
    # group has fewer rows than K (official K = 100 for MathInstruct's 262K rows); the
    # stand-in data has 20 rows per source, so the README's official call gets K = 5 here.
    'by_column="source", official=True)': 'by_column="source", official=True, num_clusters=5)',
}

# bash lines that the README test does not run, and why (anything else must be `hf-s2l`)
NOT_RUN = {
    "git clone": "fetches this repository (test_quickstart_clones_before_it_installs)",
    "pip install": "installs; .ci/run runs the Quickstart's test command verbatim",
    "python -m pytest": "the test suite itself",
    "ruff ": "lint; tests/test_lint.py",
    "bash .ci/floors": "CI's floor job (installs a venv of its own)",
}


def readme_blocks(text: str | None = None) -> list[tuple[str, int, str]]:
    """``(language, first line number, code)`` of every fenced python/bash block, in order."""
    text = README.read_text() if text is None else text
    blocks = []
    for m in re.finditer(r"^```(python|bash)\n(.*?)^```", text, flags=re.S | re.M):
        blocks.append((m.group(1), text.count("\n", 0, m.start()) + 2, m.group(2)))
    return blocks


def bash_commands(code: str) -> list[list[str]]:
    """The commands of a bash block (comments dropped, ``\\`` continuations joined)."""
    code = code.replace("\\\n", " ")
    return [argv for line in code.splitlines() if (argv := shlex.split(line, comments=True))]


def substitute(text: str, names: dict[str, str]) -> str:
    for hub_name, local in names.items():
        text = text.replace(hub_name, local)
    return text


def _hf_s2l() -> list[str]:
    script = Path(sys.executable).parent / "hf-s2l"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "hf_s2l.cli"]


def test_quickstart_clones_before_it_installs():
    """A fresh machine has no checkout: the Quickstart clones and enters it before any
    ``pip install -e`` (issue 24)."""
    first = next(code for lang, _, code in readme_blocks() if lang == "bash")
    argv = [a for cmd in bash_commands(first) for a in cmd]
    assert argv[:2] == ["git", "clone"], first
    repo = argv[2].rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")
    cd = argv.index("cd")
    assert argv[cd + 1] == repo and cd < argv.index("-e"), first


def test_readme_blocks_are_found_and_every_bash_line_is_accounted_for():
    blocks = readme_blocks()
    assert sum(lang == "python" for lang, _, _ in blocks) >= 4
    text = README.read_text()
    for hub_name in SUBSTITUTIONS:  # the map must not rot: each name is in the README
        assert hub_name in text, hub_name
    ran = 0
    for lang, line, code in blocks:
        if lang != "bash":
            continue
        for argv in bash_commands(code):
            if argv[0] == "hf-s2l":
                ran += 1
                continue
            joined = " ".join(argv)
            assert any(joined.startswith(p) for p in NOT_RUN), (
                f"README.md line {line}: `{joined}` is neither an hf-s2l command nor listed in "
                "NOT_RUN (tests/test_readme.py)"
            )
    assert ran >= 4


def test_readme_code_imports_the_core_only():
    """What a user copies from the README imports hf-s2l's core, never the experiments'
    helpers (issue 27: step 1's ``tokenize_sft`` is ``hf_s2l.tokenize_sft``)."""
    import hf_s2l
    from hf_s2l.data.sft import format_prompt, tokenize_sft

    assert hf_s2l.tokenize_sft is tokenize_sft and hf_s2l.format_prompt is format_prompt
    python = [(line, code) for lang, line, code in readme_blocks() if lang == "python"]
    assert any("from hf_s2l import tokenize_sft" in code for _, code in python)
    for line, code in python:
        assert "hf_s2l.experiments" not in code, f"README.md:{line} imports hf_s2l.experiments"


@pytest.fixture
def stand_ins(tmp_path, fixture_data) -> Path:
    """The local models and data the README's names are replaced by, in a work folder."""
    from hf_s2l.experiments.corpora import load_math_mixture
    from hf_s2l.experiments.tiny import save_tiny, tiny_model, train_tokenizer

    work = tmp_path / "work"
    work.mkdir()
    raw = load_math_mixture(fixture_data / "math_mix", max_per_source=20)
    data = work / SUBSTITUTIONS["TIGER-Lab/MathInstruct"]
    data.mkdir()
    raw.to_json(str(data / "train.jsonl"), lines=True)
    texts = [r["instruction"] + " " + r["output"] for r in raw]
    for hub_name, family, vocab in (
        ("EleutherAI/pythia-70m-deduped", "gpt_neox", 384),
        ("microsoft/phi-2", "phi", 320),  # another tokenizer: ids must map the selection
    ):
        tok = train_tokenizer(texts, vocab_size=vocab)
        model = tiny_model(family=family, vocab_size=len(tok), hidden_size=32, num_layers=2)
        save_tiny(model, tok, work / SUBSTITUTIONS[hub_name])
    return work


@pytest.mark.slow
def test_readme_runs_as_written(stand_ins, monkeypatch):
    import hf_s2l

    monkeypatch.chdir(stand_ins)
    namespace: dict = {"__name__": "readme"}
    ran = []
    for lang, line, code in readme_blocks():
        code = substitute(code, SUBSTITUTIONS)
        if lang == "python":
            exec(compile(code, f"README.md:{line}", "exec"), namespace)  # noqa: S102
            ran.append(line)
            continue
        for argv in bash_commands(code):
            if argv[0] != "hf-s2l":
                continue
            proc = subprocess.run(
                _hf_s2l() + argv[1:], cwd=stand_ins, capture_output=True, text=True, timeout=300
            )
            assert proc.returncode == 0, f"README.md:{line} {shlex.join(argv)}\n{proc.stderr}"
            ran.append(line)

    # what the blocks promise, checked loosely (the prose may change; the pipeline may not)
    store = hf_s2l.TrajectoryStore.open(stand_ins / "proxy-out" / "trajectories")
    assert store.num_examples == 80 and len(store.complete_columns()) >= 4
    assert "source" in store.metadata_columns and store.example_ids is not None
    sel = hf_s2l.Selection.load(stand_ins / "selection-s2l-30")
    assert len(sel) == 24
    assert (
        len(namespace["selected"]) == 24 and namespace["selected"].alignment.method == "id_column"
    )
    assert (stand_ins / "target-out").is_dir()
    assert len(namespace["hardest"]) == 8
    assert (stand_ins / "report" / "index.html").is_file()
    assert (stand_ins / "math-s2l-30-cli" / "README.md").is_file()
    assert len(ran) >= 10
