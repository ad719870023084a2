"""The card of the legacy export (``tests/fixtures/legacy/export``, written by the code of before
the issue-21 redesign) is reproduced byte for byte by today's code, and parses into the same
typed provenance that today's code builds for that selection."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hf_s2l.cli import main as cli_main
from hf_s2l.version import __version__

LEGACY = Path(__file__).resolve().parents[1] / "fixtures" / "legacy"
EXPORT_ARGS = [
    "export",
    "selection_s2l",
    "--dataset",
    "raw.jsonl",
    "--id-column",
    "example_id",
    "--store",
    "probe",
    "--group-column",
    "source",
    "--out",
    "export",
    "--format",
    "jsonl",
]


@pytest.fixture
def legacy(tmp_path, monkeypatch):
    """A copy of the legacy fixtures without the export, as the current folder."""
    work = tmp_path / "legacy"
    for name in ("probe", "selection_s2l", "raw.jsonl"):
        src = LEGACY / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, work / name)
    monkeypatch.chdir(work)
    return work


def test_export_card_is_byte_identical_to_the_legacy_card(legacy):
    assert cli_main(EXPORT_ARGS) == 0
    new = (legacy / "export" / "README.md").read_text(encoding="utf-8")
    old = (LEGACY / "export" / "README.md").read_text(encoding="utf-8")
    # the one intended difference after a release: the library version the card records
    old = old.replace("library_version: 0.1.0", f"library_version: {__version__}")
    old = old.replace("| hf-s2l version | `0.1.0` |", f"| hf-s2l version | `{__version__}` |")
    assert new.encode() == old.encode()
    assert (legacy / "export" / "data" / "train.jsonl").read_bytes() == (
        LEGACY / "export" / "data" / "train.jsonl"
    ).read_bytes()


def _legacy_card_text() -> str:
    return (LEGACY / "export" / "README.md").read_text(encoding="utf-8")


def test_legacy_card_parses_into_the_typed_provenance_and_back():
    from hf_s2l.hub.card import parse_card, read_provenance
    from hf_s2l.hub.provenance import PROVENANCE_FIELDS, GroupCount

    meta, _ = parse_card(_legacy_card_text())
    block = meta["hf_s2l"]
    prov = read_provenance(_legacy_card_text())
    assert prov.to_dict() == block
    assert list(prov.to_dict()) == list(block) == [*PROVENANCE_FIELDS, "layout"]
    assert prov.extra == {}
    assert prov.method == "s2l" and prov.budget == 12 and prov.layout == "jsonl"
    assert prov.counts["source"]["gsm8k"] == GroupCount(before=8, after=3)
    assert prov.alignment.id_column == "example_id" and prov.alignment.ordered is False
    assert [p["global_step"] for p in prov.recording_schedule.points] == [0, 4, 8]
    assert prov.reproduce.selection_command.startswith("hf-s2l select probe --method s2l")


def test_today_provenance_of_the_legacy_selection_equals_the_parsed_legacy_card(legacy):
    import dataclasses

    import datasets

    from hf_s2l import SelectedDataset, TrajectoryStore
    from hf_s2l.data import selection_provenance
    from hf_s2l.hub.card import read_provenance
    from hf_s2l.hub.provenance import SelectionProvenance

    old = read_provenance(_legacy_card_text())
    raw = datasets.load_dataset("json", data_files="raw.jsonl", split="train")
    selected = SelectedDataset(
        raw, "selection_s2l", id_column="example_id", store=TrajectoryStore.open("probe")
    )
    new = selection_provenance(
        selected,
        command=old.reproduce.command,
        source_dataset="raw.jsonl",
        group_counts={"source": selected.group_counts("source", source=raw)},
    )
    new = SelectionProvenance.from_dict(dataclasses.replace(new, layout="jsonl").to_dict())
    assert new == old


def test_unknown_and_missing_keys_survive_a_round_trip():
    from hf_s2l.hub.card import build_card, read_provenance
    from hf_s2l.hub.provenance import SelectionProvenance

    block = {"method": "mine", "future_key": {"a": [1, 2]}, "counts": {"g": {"x": [3, 1]}}}
    prov = SelectionProvenance.from_dict(block)
    assert prov.extra == {"future_key": {"a": [1, 2]}} and prov.counts["g"]["x"] == (3, 1)
    out = prov.to_dict()
    assert out["future_key"] == {"a": [1, 2]} and out["counts"] == {
        "g": {"x": {"before": 3, "after": 1}}
    }
    assert "layout" not in out and out["recording_schedule"] is None
    text = str(build_card(prov))
    assert read_provenance(text) == SelectionProvenance.from_dict(out)
    with pytest.raises(ValueError, match="no 'hf_s2l' block"):
        read_provenance("---\npretty_name: x\n---\n\nbody\n")
    with pytest.raises(TypeError, match="mapping"):
        SelectionProvenance.from_dict(["method"])


def test_a_typed_and_a_dict_provenance_give_the_same_card():
    from hf_s2l.hub.card import build_card, read_provenance

    prov = read_provenance(_legacy_card_text())
    assert str(build_card(prov)) == str(build_card(prov.to_dict()))
