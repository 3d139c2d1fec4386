"""The spec grammar: one parser for `skillpm add`, manifest strings and skill dependencies."""

from __future__ import annotations

import pytest

from skillpm.spec import GitSpec, PathSpec, RegistrySpec, SpecError, parse_spec, redact_url

GH = "https://github.com"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("docker/basics", RegistrySpec("docker/basics")),
        ("pytest-patterns", RegistrySpec("pytest-patterns")),
        ("docker/basics@^1.0", RegistrySpec("docker/basics", "^1.0")),
        ("docker/basics@>=1.0, <2.0", RegistrySpec("docker/basics", ">=1.0, <2.0")),
        ("team:docker/basics@~1.2", RegistrySpec("docker/basics", "~1.2", "team")),
        ("github:o/r", GitSpec(f"{GH}/o/r.git")),
        ("github:o/r.git/skills/pdf@^1.2", GitSpec(f"{GH}/o/r.git", path="skills/pdf", range="^1.2")),
        ("github:o/r#tag=v1.0.0", GitSpec(f"{GH}/o/r.git", tag="v1.0.0")),
        ("https://h/o/r.git#path=skills/x&tag=v1.2.0", GitSpec("https://h/o/r.git", path="skills/x", tag="v1.2.0")),
        ("https://h/o/r.git@^1#path=skills/x", GitSpec("https://h/o/r.git", path="skills/x", range="^1")),
        ("git@host:o/r.git", GitSpec("git@host:o/r.git")),
        ("git@host:o/r.git@^1.0", GitSpec("git@host:o/r.git", range="^1.0")),
        ("github.com:o/r.git", GitSpec("github.com:o/r.git")),
        ("ssh://git@host/o/r.git#branch=main", GitSpec("ssh://git@host/o/r.git", branch="main")),
        ("git+https://h/o/r.git#rev=abc123", GitSpec("https://h/o/r.git", rev="abc123")),
        ("file:///srv/r.git#rev=4b825dc", GitSpec("file:///srv/r.git", rev="4b825dc")),
        (f"{GH}/o/r/tree/main/skills/x", GitSpec(f"{GH}/o/r.git", path="skills/x", ref="main")),
        (f"{GH}/o/r/blob/v1/skills/x/SKILL.md", GitSpec(f"{GH}/o/r.git", path="skills/x", ref="v1")),
        ("https://gitlab.com/g/sub/r/-/tree/v1/skills/x", GitSpec("https://gitlab.com/g/sub/r.git", path="skills/x", ref="v1")),
        ("./local/skill", PathSpec("./local/skill")),
        ("../sibling", PathSpec("../sibling")),
        ("/abs/skill", PathSpec("/abs/skill")),
        ("~/skills/mine", PathSpec("~/skills/mine")),
    ],
)
def test_accepted_forms(text, expected):
    assert parse_spec(text) == expected


@pytest.mark.parametrize(
    "text, name",
    [
        ("docker/basics", "docker/basics"),
        ("team:docker/basics", "team:docker/basics"),
        ("github:o/repo", "repo"),
        ("github:o/repo/skills/pdf", "pdf"),
        ("git@host:o/tools.git", "tools"),
        ("./a/b/reviewer", "reviewer"),
    ],
)
def test_default_names(text, name):
    assert parse_spec(text).name == name


@pytest.mark.parametrize(
    "text, why",
    [
        ("", "empty"),
        ("-oProxyCommand=x", "may not start with '-'"),
        ("ext::sh -c touch% /tmp/pwned", "ext::"),
        ("https://h/o/r.git#tag=--upload-pack=x", "not a valid git ref"),
        ("https://h/o/r.git#tag=v1&branch=main", "at most one of tag, branch and rev"),
        ("https://h/o/r.git@^1#tag=v1", "cannot be combined"),
        ("https://h/o/r.git#path=../escape", "plain relative folder"),
        ("https://h/o/r.git#bogus=1", "unknown fragment"),
        ("ftp://h/o/r.git", "unsupported URL scheme"),
        ("Docker/Basics", "lowercase"),
        ("docker//basics", "not a registry id"),
        ("docker/basics@", "empty range"),
        ("docker/basics@^^1", "invalid range"),
        ("github:onlyowner", "github:OWNER/REPO"),
        ("Bad Reg:docker/x", "registry name"),
    ],
)
def test_malformed_specs_name_the_problem_and_the_accepted_forms(text, why):
    with pytest.raises(SpecError) as err:
        parse_spec(text)
    assert why in err.value.message
    assert "accepted forms" in str(err.value)
    assert err.value.exit_code == 2


@pytest.mark.parametrize(
    "text",
    [
        "https://user:ghp_SECRET@host/o/r.git#path=../x",
        "https://ghp_SECRET@host/o/r.git#tag=-bad",
        "git+https://deploy:ghp_SECRET@host/o/r.git#nope=1",
    ],
)
def test_errors_never_show_credentials(text):
    with pytest.raises(SpecError) as err:
        parse_spec(text)
    assert "ghp_SECRET" not in str(err.value)
    assert "host/o/r.git" in str(err.value)


@pytest.mark.parametrize(
    "url, shown",
    [
        ("https://user:tok@h/o/r.git", "https://h/o/r.git"),
        ("https://tok@h/o/r.git", "https://h/o/r.git"),
        ("ssh://git:pw@h/o/r.git", "ssh://git@h/o/r.git"),
        ("ssh://git@h/o/r.git", "ssh://git@h/o/r.git"),
        ("git@h:o/r.git", "git@h:o/r.git"),
    ],
)
def test_redact_url(url, shown):
    assert redact_url(url) == shown
    assert str(parse_spec(url)).startswith(shown)


@pytest.mark.parametrize("url", ["https://h/o\tr.git", "https://h/o/r.git\x7f", "https://h/o/r\x0b.git"])
def test_whitespace_and_control_characters_are_refused(url):
    with pytest.raises(SpecError, match="spaces or control characters"):
        parse_spec(url)


def test_unparsable_urls_are_still_redacted():
    assert redact_url("https://user:ghp_SECRET@[::1/o/r.git") == "https://[::1/o/r.git"
    with pytest.raises(SpecError) as err:
        parse_spec("https://user:ghp_SECRET@[::1/o/r.git")
    assert "ghp_SECRET" not in str(err.value)
