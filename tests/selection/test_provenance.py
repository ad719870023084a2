"""The reproduce command and the params JSON of a selection, character for character.

The expected strings were produced by the code before issue 21 (its own shlex builder): the
``command`` recorded in old selection.json files must read the same from the shared builder.
"""

import numpy as np

from hf_s2l.selection.provenance import cli_command, jsonable


def test_cli_command_is_character_identical_to_the_old_builder():
    assert (
        cli_command("/tmp/my store", "s2l", 0.3, 0, None, True, {})
        == "hf-s2l select '/tmp/my store' --method s2l --budget 0.3 --seed 0 --out OUT_DIR"
    )
    params = {"num_clusters": 2, "variant": "lp_app", "texts_file": "a b.jsonl", "x": [1, 2]}
    params |= {"f": 0.5, "n": None, "b": True}
    got = cli_command("st", "lp", 12, 3, "source", False, params, "out dir", "emb.npy", True)
    assert got == (
        "hf-s2l select st --method lp --budget 12 --seed 3 --out 'out dir' --by-column source "
        "--no-stratify --embeddings emb.npy --official --param num_clusters=2 --param "
        "variant=lp_app --param 'texts_file=a b.jsonl' --param 'x=[1, 2]' --param f=0.5 "
        "--param n=null --param b=true"
    )
    # an empty group column / embeddings file counts as not given
    assert cli_command("st", "lp", 12, 3, "", False, {}, "o", "", False) == (
        "hf-s2l select st --method lp --budget 12 --seed 3 --out o"
    )
    assert cli_command("st", "random", 1.0, 7, "src", True, {"q": "it's"}, "o", None, True) == (
        "hf-s2l select st --method random --budget 1.0 --seed 7 --out o --by-column src "
        "--official --param 'q=it'\"'\"'s'"
    )


def test_params_json_summarises_arrays_and_long_lists():
    import hashlib

    a = np.arange(5, dtype=np.int64)
    sha1 = hashlib.sha1(a.tobytes()).hexdigest()[:12]
    assert jsonable(a) == {"array": [5], "dtype": "int64", "sha1": sha1}
    assert jsonable(list(range(70)))["array"] == [70]
    assert jsonable((1, 2)) == [1, 2]
    assert jsonable({"a": np.int64(3), "b": np.float32(0.5)}) == {"a": 3, "b": 0.5}
    assert jsonable(np.bool_(True)) == "np.True_"  # not a number: the repr fallback, as before
