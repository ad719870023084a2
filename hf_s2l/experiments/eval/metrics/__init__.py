"""Local `evaluate` metric modules shipped with hf-s2l, loaded by path so no Hub access is needed."""
