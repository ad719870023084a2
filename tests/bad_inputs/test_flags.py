"""Flags of ``select()`` are booleans: ``official="false"`` (a string read from a config file)
is truthy and turned official mode ON; the CLI's ``--param official=false`` printed a raw
Python message."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hf_s2l import select

from .test_cli import assert_user_error, make_store, run_cli


@pytest.fixture
def store(tmp_path) -> Path:
    make_store(tmp_path / "store").close()
    return tmp_path / "store"


@pytest.mark.parametrize("flag", ["official", "stratify", "include_initial"])
@pytest.mark.parametrize("value", ["false", "False", "0", 0, 1, None])
def test_a_flag_that_is_not_a_bool_is_refused(store, flag, value):
    with pytest.raises(TypeError, match=rf"{flag} must be True or False, got {value!r}"):
        select(store, "s2l", 10, **{flag: value})


def test_official_false_string_does_not_turn_official_on(store):
    with pytest.raises(TypeError, match="convert it to a bool"):
        select(store, "s2l", 10, official="false")
    sel = select(store, "s2l", 10, official=np.bool_(False))  # numpy's bool is a bool
    assert sel.provenance["official"] is False


@pytest.mark.parametrize(
    "param, extra, flag",
    [
        ("official=false", ["--official"], "--official"),
        ("official=false", [], "--official"),
        ("seed=3", [], "--seed"),
    ],
)
def test_cli_param_naming_a_flag_is_a_clear_error(store, param, extra, flag):
    proc = run_cli(
        "select",
        "store",
        "--budget",
        "10",
        "--out",
        "sel",
        "--param",
        param,
        *extra,
        cwd=store.parent,
    )
    assert_user_error(proc, f"--param {param.split('=')[0]}=", "not a method parameter", flag)
    assert not (store.parent / "sel").exists()
