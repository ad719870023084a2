import hf_s2l


def test_public_api_resolves():
    for name in ("TrajectoryStore", "Selection"):
        assert getattr(hf_s2l, name) is not None
    assert hf_s2l.__version__
