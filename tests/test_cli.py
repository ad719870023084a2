"""What a newcomer sees of the CLI and the top-level API: help texts, ``info``, budgets."""

from __future__ import annotations

import numpy as np
import pytest

import hf_s2l
from hf_s2l.cli import main
from hf_s2l.selection.budget import parse_budget, resolve_budget

from .bad_inputs.test_cli import N, make_store


def test_method_result_is_exported():
    from hf_s2l.selection import MethodResult

    assert hf_s2l.MethodResult is MethodResult
    assert "MethodResult" in dir(hf_s2l)


def test_select_help_lists_every_method(capsys):
    with pytest.raises(SystemExit):
        main(["select", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for name in hf_s2l.available_methods():
        assert name in text
    assert "1 means ONE example" in text and "100%" in text


def test_report_help_names_its_default(capsys):
    with pytest.raises(SystemExit):
        main(["report", "--help"])
    assert "-report" in capsys.readouterr().out


def test_info_shows_metadata_columns(tmp_path, capsys):
    make_store(tmp_path / "store")
    assert main(["info", str(tmp_path / "store")]) == 0
    out = capsys.readouterr().out
    assert "metadata columns (for --by-column): source" in out
    assert "2 values: aqua 25, gsm8k 25" in out


@pytest.mark.parametrize(
    "text,value,count",
    [
        ("1", 1, 1),
        ("7", 7, 7),
        ("0.3", 0.3, 15),
        ("30%", 0.3, 15),
        ("1.0", 1.0, N),
        ("100%", 1.0, N),
    ],
)
def test_budget_text(text, value, count):
    assert parse_budget(text) == value and type(parse_budget(text)) is type(value)
    assert resolve_budget(parse_budget(text), N) == count


def test_budget_100_percent_on_the_cli_selects_all(tmp_path, capsys):
    make_store(tmp_path / "store")
    out = tmp_path / "sel"
    assert (
        main(
            [
                "select",
                str(tmp_path / "store"),
                "--method",
                "random",
                "--budget",
                "100%",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    sel = hf_s2l.Selection.load(out)
    np.testing.assert_array_equal(sel.indices, np.arange(N))
