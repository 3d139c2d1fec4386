"""skillpm.skill: parsing SKILL.md frontmatter and validating skill folders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from skillpm.errors import SkillFormatError
from skillpm.skill import (
    Problem,
    SkillInfo,
    check_skill,
    load_skill,
    parse_frontmatter,
    read_skill,
)
from tests.conftest import skill_text

def fm(**extra: object) -> dict:
    """A valid frontmatter mapping (as BaseLoader would give), plus changes."""
    base: dict = {
        "name": "pdf-tools",
        "description": "Extract text from PDFs. Use when handling PDF files.",
        "metadata": {"version": "1.2.0"},
    }
    for key, value in extra.items():
        key = key.replace("_", "-") if key == "allowed_tools" else key
        if value is None:
            base.pop(key, None)
        else:
            base[key] = value
    return base


def fields(problems: list[Problem], severity: str | None = None) -> list[str]:
    return [p.field for p in problems if severity is None or p.severity == severity]


# --------------------------------------------------------------------------- #
# check_skill: one row per rule, both modes


RULES = [
    # (id, frontmatter, folder_name, field, lenient severity, strict severity)
    ("name missing", fm(name=None), "pdf-tools", "name", "error", "error"),
    ("name empty", fm(name=""), "", "name", "error", "error"),
    ("name not a string", fm(name=["a"]), "pdf-tools", "name", "error", "error"),
    ("name uppercase", fm(name="PDF-Tools"), "PDF-Tools", "name", "error", "error"),
    ("name underscore", fm(name="pdf_tools"), "pdf_tools", "name", "error", "error"),
    ("name space", fm(name="pdf tools"), "pdf tools", "name", "error", "error"),
    ("name unicode", fm(name="pdf-tööls"), "pdf-tööls", "name", "error", "error"),
    ("name leading hyphen", fm(name="-pdf"), "-pdf", "name", "error", "error"),
    ("name trailing hyphen", fm(name="pdf-"), "pdf-", "name", "error", "error"),
    ("name double hyphen", fm(name="pdf--tools"), "pdf--tools", "name", "error", "error"),
    ("name 65 chars", fm(name="a" * 65), "a" * 65, "name", "error", "error"),
    ("name != folder", fm(), "other-folder", "name", "warning", "error"),
    ("description missing", fm(description=None), "pdf-tools", "description", "error", "error"),
    ("description empty", fm(description=""), "pdf-tools", "description", "error", "error"),
    ("description blank", fm(description="   \n"), "pdf-tools", "description", "error", "error"),
    ("description a mapping", fm(description={"a": "b"}), "pdf-tools", "description", "error", "error"),
    ("description 1025 chars", fm(description="d" * 1025), "pdf-tools", "description", "warning", "error"),
    ("license a list", fm(license=["MIT"]), "pdf-tools", "license", "warning", "error"),
    ("license empty", fm(license=""), "pdf-tools", "license", "warning", "error"),
    ("compatibility empty", fm(compatibility=""), "pdf-tools", "compatibility", "warning", "error"),
    ("compatibility 501 chars", fm(compatibility="c" * 501), "pdf-tools", "compatibility", "warning", "error"),
    ("compatibility a list", fm(compatibility=["x"]), "pdf-tools", "compatibility", "warning", "error"),
    ("allowed-tools a mapping", fm(allowed_tools={"a": "b"}), "pdf-tools", "allowed-tools", "warning", "error"),
    ("allowed-tools nested list", fm(allowed_tools=["Read", ["x"]]), "pdf-tools", "allowed-tools", "warning", "error"),
    ("metadata a list", fm(metadata=["a"]), "pdf-tools", "metadata", "warning", "error"),
    ("metadata value a mapping", fm(metadata={"version": "1.0.0", "x": {"y": "z"}}), "pdf-tools", "metadata.x", "warning", "error"),
    ("unknown key", fm(category="testing"), "pdf-tools", "category", "warning", "error"),
    ("agent key context", fm(context="fork"), "pdf-tools", "context", "warning", "error"),
    ("agent key model_tier", fm(model_tier="sonnet"), "pdf-tools", "model_tier", "warning", "error"),
    ("agent key user-invocable", fm(**{"user-invocable": "false"}), "pdf-tools", "user-invocable", "warning", "error"),
    ("agent key disable-model-invocation", fm(**{"disable-model-invocation": "true"}), "pdf-tools", "disable-model-invocation", "warning", "error"),
    ("agent key argument-hint", fm(**{"argument-hint": "[file]"}), "pdf-tools", "argument-hint", "warning", "error"),
    ("agent key hooks", fm(hooks={"pre": "x"}), "pdf-tools", "hooks", "warning", "error"),
    ("top-level version", fm(version="1.0.0"), "pdf-tools", "version", "warning", "error"),
    ("version missing", fm(metadata={"author": "me"}), "pdf-tools", "metadata.version", "warning", "error"),
    ("metadata missing", fm(metadata=None), "pdf-tools", "metadata.version", "warning", "error"),
    ("version empty", fm(metadata={"version": ""}), "pdf-tools", "metadata.version", "warning", "error"),
    ("version 1.0", fm(metadata={"version": "1.0"}), "pdf-tools", "metadata.version", "warning", "error"),
    ("version 1.2.3.4", fm(metadata={"version": "1.2.3.4"}), "pdf-tools", "metadata.version", "warning", "error"),
    ("version latest", fm(metadata={"version": "latest"}), "pdf-tools", "metadata.version", "warning", "error"),
    ("version leading zero", fm(metadata={"version": "01.2.3"}), "pdf-tools", "metadata.version", "warning", "error"),
    ("dependencies stray comma", fm(metadata={"version": "1.0.0", "dependencies": "a,,b"}), "pdf-tools", "metadata.dependencies", "warning", "error"),
]


@pytest.mark.parametrize(
    ("frontmatter", "folder", "field", "lenient", "strict"),
    [pytest.param(*row[1:], id=row[0]) for row in RULES],
)
def test_each_rule_in_both_modes(frontmatter, folder, field, lenient, strict):
    lenient_problems = check_skill(frontmatter, folder_name=folder, path="s/SKILL.md", strict=False)
    strict_problems = check_skill(frontmatter, folder_name=folder, path="s/SKILL.md", strict=True)
    assert field in fields(lenient_problems, lenient), lenient_problems
    assert field not in fields(lenient_problems, "error" if lenient == "warning" else "warning")
    assert field in fields(strict_problems, strict), strict_problems
    assert all(p.severity == "error" for p in strict_problems)


VALID = [
    ("minimal + version", fm()),
    ("name 64 chars", fm(name="a" * 64)),
    ("name digits", fm(name="7zip-2")),
    ("name one char", fm(name="a")),
    ("description 1024 chars", fm(description="d" * 1024)),
    ("license", fm(license="Proprietary. LICENSE.txt has complete terms")),
    ("compatibility 500", fm(compatibility="c" * 500)),
    ("allowed-tools string", fm(allowed_tools="Bash(git:*) Read")),
    ("allowed-tools list", fm(allowed_tools=["Bash(git:*)", "Read"])),
    ("metadata extras", fm(metadata={"version": "1.0.0", "author": "me", "sdlc-phase": "testing"})),
    ("prerelease+build", fm(metadata={"version": "1.2.3-rc.1+build.5"})),
    ("dependencies", fm(metadata={"version": "1.0.0", "dependencies": "docker/basics@^1.0, python/x"})),
    ("folded description", fm(description="Multi line\nfolded\n")),
]


@pytest.mark.parametrize("strict", [False, True], ids=["lenient", "strict"])
@pytest.mark.parametrize("frontmatter", [pytest.param(f, id=i) for i, f in VALID])
def test_valid_frontmatter_has_no_problems(frontmatter, strict):
    assert check_skill(frontmatter, folder_name=frontmatter["name"], path="p", strict=strict) == []


def test_folder_name_none_skips_the_match():
    assert check_skill(fm(), folder_name=None, path="p", strict=True) == []


def test_check_skill_on_a_non_mapping():
    (problem,) = check_skill(["a"], folder_name=None, path="p", strict=False)  # type: ignore[arg-type]
    assert problem.field == "frontmatter" and problem.severity == "error"


def test_name_rules_are_reported_separately():
    problems = check_skill(fm(name="-Bad--"), folder_name=None, path="p", strict=False)
    messages = " | ".join(p.message for p in problems if p.field == "name")
    assert "lowercase" in messages and "hyphen" in messages and "consecutive" in messages


def test_problem_string_format():
    p = Problem("skills/foo/SKILL.md", "metadata.version", "missing", "warning")
    assert str(p) == "skills/foo/SKILL.md: metadata.version: missing"
    assert not p.is_error and Problem("a", "b", "c", "error").is_error


def test_problem_is_frozen():
    p = Problem("a", "b", "c", "error")
    with pytest.raises(AttributeError):
        p.path = "x"  # type: ignore[misc]


# --------------------------------------------------------------------------- #
# parse_frontmatter


def test_parse_basic():
    text = "---\nname: a\ndescription: b\n---\n# Body\n\ntext\n"
    data, body, problems = parse_frontmatter(text)
    assert data == {"name": "a", "description": "b"}
    assert body == "# Body\n\ntext\n"
    assert problems == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("v: 1.10", "1.10", id="float-looking"),
        pytest.param("v: 1.0", "1.0", id="1.0"),
        pytest.param("v: yes", "yes", id="bool-looking"),
        pytest.param("v: 010", "010", id="octal-looking"),
        pytest.param("v: null", "null", id="null-looking"),
        pytest.param("v: 2024-01-01", "2024-01-01", id="date-looking"),
        pytest.param("v:", "", id="empty"),
    ],
)
def test_every_scalar_stays_a_string(text, expected):
    data, _, problems = parse_frontmatter(f"---\n{text}\n---\n")
    assert data == {"v": expected} and problems == []


LINE_ENDINGS = [
    pytest.param("\n", id="LF"),
    pytest.param("\r\n", id="CRLF"),
    pytest.param("\r", id="CR"),
]


@pytest.mark.parametrize("nl", LINE_ENDINGS)
@pytest.mark.parametrize("bom", ["", "\ufeff"], ids=["no-bom", "bom"])
def test_line_endings_and_bom(nl, bom):
    text = bom + nl.join(["---", "name: a", "description: >", "  folded", "  text", "---", "# Body", ""])
    data, body, problems = parse_frontmatter(text)
    assert problems == []
    assert data == {"name": "a", "description": "folded text\n"}
    assert body == "# Body\n"


@pytest.mark.parametrize(
    ("frontmatter", "key", "value"),
    [
        pytest.param('description: "a --- b"', "description", "a --- b", id="quoted"),
        pytest.param("description: a --- b", "description", "a --- b", id="plain"),
        pytest.param("description: |\n  first\n  ---\n  last", "description", "first\n---\nlast\n", id="block-literal"),
        pytest.param("description: >\n  ---\n  x", "description", "--- x\n", id="block-folded"),
        pytest.param("description: '---'", "description", "---", id="only-dashes-quoted"),
    ],
)
def test_dashes_inside_values(frontmatter, key, value):
    data, body, problems = parse_frontmatter(f"---\n{frontmatter}\n---\nbody ---\n---\n")
    assert problems == []
    assert data[key] == value
    assert body == "body ---\n---\n"


def test_closing_delimiter_with_trailing_blanks():
    data, body, _ = parse_frontmatter("---  \nname: a\n--- \t\nbody")
    assert data == {"name": "a"} and body == "body"


@pytest.mark.parametrize(
    ("line", "key", "value"),
    [
        pytest.param("description: Use when: X happens", "description", "Use when: X happens", id="middle"),
        pytest.param("description: Triggers:", "description", "Triggers:", id="trailing-colon"),
        pytest.param("description: a: b: c", "description", "a: b: c", id="several"),
        pytest.param('description: Say "hi": now', "description", 'Say "hi": now', id="inner-quotes"),
        pytest.param("description: Use when: X\n  and also: Y", "description", "Use when: X and also: Y", id="continued"),
        pytest.param("description: Use when X\n  happens: Y", "description", "Use when X happens: Y", id="colon-on-continuation"),
    ],
)
def test_unquoted_colon_is_recovered_with_a_warning(line, key, value):
    text = f"---\nname: a\n{line}\nmetadata:\n  version: 1.0.0\n---\nbody\n"
    data, body, problems = parse_frontmatter(text, path="x/SKILL.md")
    assert data[key] == value
    assert data["name"] == "a" and data["metadata"] == {"version": "1.0.0"}
    assert body == "body\n"
    (problem,) = problems
    assert problem.severity == "warning" and problem.field == key
    assert str(problem).startswith("x/SKILL.md: description: line 3: unquoted ': '")


def test_unquoted_colon_escalates_in_strict_read(tmp_path):
    folder = tmp_path / "a"
    folder.mkdir()
    (folder / "SKILL.md").write_text(
        '---\nname: a\ndescription: Use when: X\nmetadata:\n  version: "1.0.0"\n---\n'
    )
    info, problems = read_skill(folder)
    assert info is not None and info.description == "Use when: X"
    assert fields(problems, "warning") == ["description"]
    info, problems = read_skill(folder, strict=True)
    assert info is None and fields(problems, "error") == ["description"]


def test_tab_indentation_is_recovered_with_a_warning():
    text = "---\nname: a\nmetadata:\n\tversion: 1.0.0\n\tauthor: me\n---\n"
    data, _, problems = parse_frontmatter(text)
    assert data["metadata"] == {"version": "1.0.0", "author": "me"}
    (p,) = problems
    assert p.severity == "warning" and p.field == "frontmatter"
    assert p.message.startswith("lines 4, 5: tab indentation")


def test_tab_inside_a_value_is_fine():
    data, _, problems = parse_frontmatter("---\nname:\ta\ndescription: x\ty\n---\n")
    assert data == {"name": "a", "description": "x\ty"} and problems == []


def test_duplicate_key_warns_and_last_wins():
    data, _, problems = parse_frontmatter("---\nname: a\nname: b\n---\n")
    assert data == {"name": "b"}
    (p,) = problems
    assert p.field == "name" and p.severity == "warning" and "line 3" in p.message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("# Just markdown\n", "missing", id="no-frontmatter"),
        pytest.param("", "missing", id="empty-file"),
        pytest.param("\n---\nname: a\n---\n", "missing", id="blank-line-first"),
        pytest.param("---\nname: a\n", "not closed", id="unclosed"),
        pytest.param("---\n- a\n- b\n---\n", "got a list", id="list"),
        pytest.param("---\njust a string\n---\n", "got a single value", id="scalar"),
        pytest.param("---\nname: [a\n---\n", "started on line 2", id="bad-flow"),
        pytest.param("---\nmetadata:\n  a: b\n c: d\n---\n", "invalid YAML at line", id="bad-indent"),
        pytest.param('---\nname: "unterminated\n---\n', "invalid YAML", id="unterminated-quote"),
        pytest.param("---\nname: a\n...\nmore: b\n---\n", "invalid YAML", id="two-documents"),
        pytest.param("---\n? [a]\n: b\n---\n", "invalid YAML", id="unhashable-key"),
    ],
)
def test_broken_frontmatter_is_a_clear_error(text, message):
    data, _, problems = parse_frontmatter(text, path="p/SKILL.md")
    assert data == {}
    (p,) = problems
    assert p.severity == "error" and p.field == "frontmatter"
    assert message in p.message
    assert "\n" not in str(p)


def test_empty_frontmatter_is_an_empty_mapping():
    data, body, problems = parse_frontmatter("---\n---\nbody")
    assert data == {} and body == "body" and problems == []


def test_comment_only_frontmatter_is_an_empty_mapping():
    data, _, problems = parse_frontmatter("---\n# nothing\n---\n")
    assert data == {} and problems == []


def test_deeply_nested_yaml_is_an_error_not_a_crash():
    text = "---\nx: " + "[" * 5000 + "]" * 5000 + "\n---\n"
    data, _, problems = parse_frontmatter(text)
    assert data == {}
    assert [(p.field, p.severity) for p in problems] == [("frontmatter", "error")]


# --------------------------------------------------------------------------- #
# read_skill / load_skill on real folders


def test_read_skill_from_make_skill(make_skill):
    folder = make_skill(
        "pdf-tools",
        version="1.2.0",
        dependencies=["docker/basics@^1.0", "python/package-management"],
        extra_frontmatter={
            "license": "MIT",
            "compatibility": "Requires poppler",
            "allowed-tools": "Read Bash(pdftotext:*)",
            "metadata": {"keywords": "pdf, text ,extraction", "skill_id": "docs/pdf-tools"},
        },
        body="# PDF tools\n",
    )
    info, problems = read_skill(folder)
    assert problems == []
    assert info == SkillInfo(
        name="pdf-tools",
        description="Test skill pdf-tools. Use when testing skillpm.",
        version="1.2.0",
        dependencies=("docker/basics@^1.0", "python/package-management"),
        skill_id="docs/pdf-tools",
        keywords=("pdf", "text", "extraction"),
        license="MIT",
        compatibility="Requires poppler",
        allowed_tools=("Read", "Bash(pdftotext:*)"),
        metadata={
            "version": "1.2.0",
            "dependencies": "docker/basics@^1.0, python/package-management",
            "keywords": "pdf, text ,extraction",
            "skill_id": "docs/pdf-tools",
        },
        frontmatter=info.frontmatter,
        body="# PDF tools\n",
    )
    assert info.frontmatter["license"] == "MIT"
    assert read_skill(folder, strict=True) == (info, [])


def test_version_stays_a_string_through_read(make_skill):
    folder = make_skill("a", skill_md="---\nname: a\ndescription: d\nmetadata:\n  version: 1.10.0\n---\n")
    info, _ = read_skill(folder)
    assert info is not None and info.version == "1.10.0"


def test_missing_skill_md(tmp_path):
    folder = tmp_path / "empty-skill"
    folder.mkdir()
    info, problems = read_skill(folder)
    assert info is None
    assert [str(p) for p in problems] == [
        f"{folder}/SKILL.md: SKILL.md: not found (a skill folder needs a SKILL.md with name and description)"
    ]
    with pytest.raises(SkillFormatError) as exc:
        load_skill(folder)
    assert exc.value.message == str(problems[0])


def test_oddly_cased_skill_md_is_named_in_the_error(tmp_path):
    folder = tmp_path / "a"
    folder.mkdir()
    (folder / "Skill.md").write_text("---\nname: a\ndescription: d\n---\n")
    _, problems = read_skill(folder)
    (p,) = problems
    assert "found Skill.md; rename it to SKILL.md" in p.message


def test_lowercase_skill_md_is_a_warning_when_lenient_and_an_error_when_strict(tmp_path):
    folder = tmp_path / "a"
    folder.mkdir()
    (folder / "skill.md").write_text('---\nname: a\ndescription: d\nmetadata:\n  version: "1.0.0"\n---\n')
    info, problems = read_skill(folder)
    assert info is not None and info.name == "a"
    assert [(p.field, p.severity) for p in problems] == [("SKILL.md", "warning")]
    assert problems[0].path.endswith("skill.md")
    info, problems = read_skill(folder, strict=True)
    assert info is None and [(p.field, p.severity) for p in problems] == [("SKILL.md", "error")]


@pytest.mark.parametrize(
    ("setup", "field", "text"),
    [
        pytest.param(lambda d: None, "folder", "does not exist", id="absent"),
        pytest.param(lambda d: d.write_text("x"), "folder", "not a directory", id="a-file"),
    ],
)
def test_folder_itself_is_wrong(tmp_path, setup, field, text):
    folder = tmp_path / "a"
    setup(folder)
    info, problems = read_skill(folder)
    assert info is None and problems[0].field == field and text in problems[0].message


def test_symlinked_skill_md_is_refused(tmp_path):
    real = tmp_path / "real.md"
    real.write_text("---\nname: a\ndescription: d\n---\n")
    folder = tmp_path / "a"
    folder.mkdir()
    (folder / "SKILL.md").symlink_to(real)
    info, problems = read_skill(folder)
    assert info is None and "symbolic link" in problems[0].message


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        pytest.param(b"---\nname: a\ndescription: caf\xe9\n---\n", "byte 0xe9 on line 3", id="latin-1"),
        pytest.param("---\nname: a\n---\n".encode("utf-16"), "UTF-16", id="utf-16"),
        pytest.param(b"\xff\xff\xff", "not valid UTF-8", id="garbage"),
    ],
)
def test_non_utf8_is_a_clear_error(make_skill, raw, needle):
    folder = make_skill("a", skill_md=raw)
    info, problems = read_skill(folder)
    assert info is None
    (p,) = problems
    assert p.field == "encoding" and needle in p.message


def test_utf8_bom_and_crlf_file(make_skill):
    raw = "\ufeff---\r\nname: a\r\ndescription: Use it\r\nmetadata:\r\n  version: '1.0.0'\r\n---\r\n# T\r\n"
    folder = make_skill("a", skill_md=raw.encode("utf-8"))
    info, problems = read_skill(folder)
    assert problems == [] and info is not None
    assert (info.name, info.description, info.version, info.body) == ("a", "Use it", "1.0.0", "# T\n")


def test_broken_frontmatter_reports_only_the_parse_error(make_skill):
    folder = make_skill("a", skill_md="---\nname: [a\n---\n")
    info, problems = read_skill(folder)
    assert info is None and fields(problems) == ["frontmatter"]


def test_name_must_match_folder(make_skill):
    folder = make_skill("pdf-tools", folder="pdf")
    info, problems = read_skill(folder)
    assert info is not None and info.name == "pdf-tools"
    (p,) = problems
    assert p.severity == "warning" and "'pdf'" in p.message
    info, problems = read_skill(folder, strict=True)
    assert info is None and fields(problems, "error") == ["name"]


def test_relative_dot_folder_uses_the_real_folder_name(make_skill, monkeypatch):
    folder = make_skill("a")
    monkeypatch.chdir(folder)
    info, problems = read_skill(Path("."))
    assert info is not None and problems == []


def test_real_seed_skill_with_agent_keys(make_skill):
    """Shape of a real skill: folded description, quoted version, agent keys."""
    raw = (
        "---\nname: pytest-patterns\ndescription: >-\n  Python backend testing patterns.\n"
        "  Use when writing tests.\nlicense: MIT\n"
        "compatibility: 'Python 3.12+, pytest 8+'\nmetadata:\n  author: platform-team\n"
        "  version: '1.0.0'\n  sdlc-phase: testing\n"
        "allowed-tools: Read Edit Write Bash(pytest:*) Bash(python:*)\ncontext: fork\n---\n\n# Pytest\n"
    )
    folder = make_skill("pytest-patterns", skill_md=raw)
    info, problems = read_skill(folder)
    assert info is not None
    assert info.description == "Python backend testing patterns. Use when writing tests."
    assert info.allowed_tools == ("Read", "Edit", "Write", "Bash(pytest:*)", "Bash(python:*)")
    assert [(p.field, p.severity) for p in problems] == [("context", "warning")]
    _, strict_problems = read_skill(folder, strict=True)
    assert [(p.field, p.severity) for p in strict_problems] == [("context", "error")]


# --------------------------------------------------------------------------- #
# metadata.json sidecar


SEED_SIDECAR = {
    "skill_id": "docker/docker-python-best-practices",
    "name": "docker-python-best-practices",
    "description": "Use when Python Docker images are excessively large.",
    "version": "1.0.0",
    "type": "technical",
    "dependencies": ["docker/basics"],
    "keywords": ["docker", "python", "multi-stage-build"],
    "evolution": {"created_by": "skill-fleet-api"},
}


def test_sidecar_fills_in_version_dependencies_id_keywords(make_skill):
    folder = make_skill("docker-python-best-practices", version=None, sidecar=SEED_SIDECAR)
    info, problems = read_skill(folder)
    assert problems == []
    assert info is not None
    assert info.version == "1.0.0"
    assert info.dependencies == ("docker/basics",)
    assert info.skill_id == "docker/docker-python-best-practices"
    assert info.keywords == ("docker", "python", "multi-stage-build")


def test_sidecar_version_is_not_enough_for_strict(make_skill):
    folder = make_skill("docker-python-best-practices", version=None, sidecar=SEED_SIDECAR)
    info, problems = read_skill(folder, strict=True)
    assert info is None
    (p,) = problems
    assert p.field == "metadata.version" and "'1.0.0'" in p.message


def test_frontmatter_wins_over_sidecar(make_skill):
    folder = make_skill(
        "a",
        version="2.0.0",
        dependencies=["x/y"],
        metadata={"keywords": "k1, k2", "skill_id": "mine/a"},
        sidecar={**SEED_SIDECAR, "name": "a"},
    )
    info, problems = read_skill(folder)
    assert info is not None
    assert (info.version, info.dependencies, info.keywords, info.skill_id) == (
        "2.0.0", ("x/y",), ("k1", "k2"), "mine/a",
    )
    (p,) = problems  # the versions disagree
    assert p.field == "metadata.version" and p.severity == "warning" and "'1.0.0'" in p.message


@pytest.mark.parametrize(
    ("sidecar", "field"),
    [
        pytest.param("{not json", "metadata.json", id="invalid-json"),
        pytest.param("[1, 2]", "metadata.json", id="a-list"),
        pytest.param('{"version": 1}', "metadata.json version", id="version-number"),
        pytest.param('{"version": "1.0.0", "dependencies": "docker/basics"}', "metadata.json dependencies", id="deps-string"),
        pytest.param('{"version": "1.0.0", "keywords": [1]}', "metadata.json keywords", id="keywords-numbers"),
        pytest.param('{"version": "1.0.0", "skill_id": ["x"]}', "metadata.json skill_id", id="id-list"),
        pytest.param('{"version": "1.0"}', "metadata.json version", id="version-not-semver"),
    ],
)
def test_bad_sidecar_is_a_warning_not_a_failure(make_skill, sidecar, field):
    folder = make_skill("a", version=None, sidecar=sidecar)
    info, problems = read_skill(folder)
    assert info is not None
    assert field in fields(problems, "warning")
    assert not fields(problems, "error")


def test_description_missing_mentions_sidecar(make_skill):
    folder = make_skill("a", description=None, sidecar=SEED_SIDECAR)
    _, problems = read_skill(folder)
    (p,) = [p for p in problems if p.field == "description"]
    assert "metadata.json has one" in p.message


# --------------------------------------------------------------------------- #
# load_skill


def test_load_skill_returns_warnings(make_skill):
    folder = make_skill("a", version=None)
    info, warnings = load_skill(folder)
    assert info.name == "a" and info.version is None
    assert [(p.field, p.severity) for p in warnings] == [("metadata.version", "warning")]


def test_load_skill_raises_one_line_with_the_first_error(make_skill):
    folder = make_skill("a", extra_frontmatter={"name": "Bad_Name", "description": None})
    with pytest.raises(SkillFormatError) as exc:
        load_skill(folder)
    err = exc.value
    assert err.message.startswith(f"{folder}/SKILL.md: name: ")
    assert "\n" not in str(err)
    assert "more error" in (err.hint or "")
    assert {p.field for p in err.problems if p.is_error} >= {"name", "description"}


def test_make_skill_writes_files_with_modes(make_skill, tmp_path):
    folder = make_skill("a", files={"scripts/x.sh": ("#!/bin/sh\n", 0o755), "assets/b.bin": b"\x00\x01"})
    assert folder == tmp_path / "a"
    assert (folder / "scripts/x.sh").stat().st_mode & 0o111
    assert (folder / "assets/b.bin").read_bytes() == b"\x00\x01"
    assert skill_text(name="a", description="d").startswith("---\nname: a\ndescription: d\n---\n")


def test_make_skill_rewrites_in_place_for_a_new_version(make_skill):
    first = make_skill("a", version="1.0.0")
    second = make_skill("a", version="1.1.0")
    assert first == second
    info, _ = read_skill(second)
    assert info is not None and info.version == "1.1.0"


def test_dependency_list_round_trips_through_yaml(make_skill):
    folder = make_skill("a", dependencies="docker/basics@^1.0,python/x ,  , ")
    info, problems = read_skill(folder)
    assert info is not None and info.dependencies == ("docker/basics@^1.0", "python/x")
    assert fields(problems) == ["metadata.dependencies"]


def test_sidecar_file_written_by_make_skill_is_json(make_skill):
    folder = make_skill("a", sidecar={"version": "1.0.0"})
    assert json.loads((folder / "metadata.json").read_text()) == {"version": "1.0.0"}
