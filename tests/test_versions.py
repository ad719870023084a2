"""One truth about versions (issue 24): ``pyproject.toml`` declares the supported ranges;
``.ci/floors.txt`` (the CI floor job's pins), ``README.md`` and ``docs/compatibility.md``
must state the same ones, and the compatibility page names its tested stacks without
internal branch names or commit hashes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

tomllib = pytest.importorskip("tomllib")  # Python >= 3.11 (3.10: the test is skipped)

ROOT = Path(__file__).resolve().parents[1]
PAGES = {"README.md": ROOT / "README.md", "docs/compatibility.md": ROOT / "docs/compatibility.md"}
# the test extra's training stack, whose range is part of what CI proves
TEST_STACK = ("trl",)
# pinned in .ci/floors.txt but no requirement of ours (the file says why)
ENVIRONMENT_PINS = {"pyarrow"}


def declared() -> dict[str, Requirement]:
    """``{canonical name: requirement}`` of the dependencies and the test extra's stack."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = [Requirement(r) for r in project["dependencies"]]
    reqs += [
        Requirement(r)
        for r in project["optional-dependencies"]["test"]
        if canonicalize_name(Requirement(r).name) in TEST_STACK
    ]
    return {canonicalize_name(r.name): r for r in reqs}


def floor_of(req: Requirement) -> Version:
    floors = [Version(s.version) for s in req.specifier if s.operator == ">="]
    assert len(floors) == 1, f"{req}: exactly one '>=' floor expected"
    return floors[0]


def floor_pins() -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for line in (ROOT / ".ci/floors.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            req = Requirement(line)
            (spec,) = req.specifier
            assert spec.operator == "==", f".ci/floors.txt: {line!r} is not an exact pin"
            pins[canonicalize_name(req.name)] = Version(spec.version)
    return pins


def test_every_dependency_has_a_floor_and_the_floor_file_pins_it():
    reqs = declared()
    pins = floor_pins()
    assert set(pins) - ENVIRONMENT_PINS == set(reqs), "pyproject.toml and .ci/floors.txt differ"
    for name, req in reqs.items():
        assert pins[name] == floor_of(req), f"{name}: floor {floor_of(req)}, pinned {pins[name]}"
        assert req.specifier.contains(str(pins[name]))


def _ranges_in(text: str, names: set[str]) -> set[str]:
    """Every inline-code requirement range (``pkg>=x``, ``pkg>=x,<y``...) of a known package."""
    found = set()
    for code in re.findall(r"`([^`\n]+)`", text):
        m = re.fullmatch(r"([A-Za-z0-9_.\-]+)\s*((?:>=|<=|~=|!=|>|<)[^`]*)", code.strip())
        if m and canonicalize_name(m.group(1)) in names:
            found.add(code.strip())
    return found


@pytest.mark.parametrize("page", sorted(PAGES))
def test_pages_state_the_declared_ranges(page):
    reqs = declared()
    text = PAGES[page].read_text()
    expected = {str(r) for r in reqs.values()}
    stated = _ranges_in(text, set(reqs))
    missing = {r for r in expected if f"`{r}`" not in text}
    assert not missing, f"{page} does not state {sorted(missing)} (as in pyproject.toml)"
    assert stated <= expected, f"{page} states other ranges: {sorted(stated - expected)}"


def test_compatibility_page_lists_the_floor_stack_with_a_date_and_no_internal_names():
    text = PAGES["docs/compatibility.md"].read_text()
    section = text[text.index("## Versions tested") :]
    assert re.search(r"\b20\d\d-\d\d-\d\d\b", section), "the tested stacks need a date"
    for name, version in floor_pins().items():  # the environment pins too
        pattern = re.escape(name).replace("\\-", "[-_.]")
        row = re.search(rf"^\|\s*{pattern}\s*\|(.*)$", section, re.M | re.I)
        assert row and str(version) in row.group(1), f"floor stack row for {name} {version}"
    assert not re.search(r"\bh-[a-z]+(?:-[a-z]+)*\b", text), "internal branch name"
    hashes = re.findall(r"\b[0-9a-f]{7,40}\b", text)
    assert not [h for h in hashes if re.search(r"[a-f]", h) and re.search(r"\d", h)], hashes
