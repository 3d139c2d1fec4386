"""`skillpm new`: whatever the description holds, the result passes validate --strict."""

from __future__ import annotations

import pytest

from skillpm.errors import UsageError
from skillpm.scaffold import new_skill
from skillpm.skill import read_skill


@pytest.mark.parametrize(
    "description",
    [
        None,
        'Says "hello". Use when greeting.',
        r"Cleans C:\temp and \\server\share paths. Use when on Windows.",
        "Use when: the build breaks --- or tests flake.",
        "Zwei Wörter; emoji 🚀; tab\tinside.",
    ],
)
def test_scaffold_is_strict_valid_and_keeps_the_description(tmp_path, description):
    folder = new_skill("greeter", tmp_path, description=description)
    info, problems = read_skill(folder, strict=True)
    assert problems == [] and info is not None
    if description is not None:
        assert info.description == description


@pytest.mark.parametrize("description", ["", "x" * 1025])
def test_scaffold_refuses_descriptions_the_spec_forbids(tmp_path, description):
    with pytest.raises(UsageError, match="1-1024"):
        new_skill("greeter", tmp_path, description=description)
    assert not (tmp_path / "greeter").exists()


@pytest.mark.parametrize("name", ["Bad_Name", "-x", "a--b", "x" * 65])
def test_scaffold_refuses_invalid_names(tmp_path, name):
    with pytest.raises(UsageError, match="not a valid skill name"):
        new_skill(name, tmp_path)
