"""Tag -> version mapping and ls-remote parsing (pure: no git)."""

from __future__ import annotations

import pytest

from skillpm.semver import Version
from skillpm.sources.git.command import scrub
from skillpm.sources.git.tags import (
    RemoteRefs,
    parse_ls_remote,
    resolve_web_ref,
    skill_tag_versions,
    version_for_tag,
)

A, B, C, D, E, F = (c * 40 for c in "abcdef")


def vt(tags: dict[str, str], path: str = "") -> list[tuple[str, str]]:
    return [(str(t.version), t.tag) for t in skill_tag_versions(tags, path)]


def test_parse_ls_remote_peels_annotated_tags_and_reads_symref():
    text = (
        "ref: refs/heads/main\tHEAD\n"
        f"{A}\tHEAD\n"
        f"{A}\trefs/heads/main\n"
        f"{B}\trefs/heads/feature/x\n"
        f"{C}\trefs/tags/v1.0.0\n"
        f"{D}\trefs/tags/v1.0.0^{{}}\n"
        f"{E}\trefs/tags/v0.9.0\n"
        f"{F}\trefs/pull/1/head\n"
        "garbage line\n"
    )
    refs = parse_ls_remote(text)
    assert refs.head == "main" and refs.head_commit == A
    assert refs.heads == {"main": A, "feature/x": B}
    assert refs.tags == {"v1.0.0": D, "v0.9.0": E}  # annotated: the peeled commit


def test_parse_ls_remote_peeled_line_before_tag_line():
    refs = parse_ls_remote(f"{D}\trefs/tags/x^{{}}\n{C}\trefs/tags/x\n")
    assert refs.tags == {"x": D}


def test_root_skill_takes_v_and_bare_semver_tags_only():
    tags = {"v1.0.0": A, "1.1.0": B, "v2.0.0-rc.1": C, "v1": D, "release-3": E, "V3.0.0": F, "x/v4.0.0": F}
    assert vt(tags) == [("2.0.0-rc.1", "v2.0.0-rc.1"), ("1.1.0", "1.1.0"), ("1.0.0", "v1.0.0")]


def test_v_tag_preferred_over_bare_for_same_version():
    assert vt({"1.0.0": A, "v1.0.0": B}) == [("1.0.0", "v1.0.0")]
    # build metadata does not make a different version
    assert len(vt({"v1.0.0+a": A, "v1.0.0+b": B})) == 1


@pytest.mark.parametrize(
    ("tag", "convention"),
    [("skills/pdf/v1.2.3", "path/v"), ("pdf--v1.2.3", "name--v"), ("pdf@1.2.3", "name@")],
)
def test_each_skill_convention(tag, convention):
    (tv,) = skill_tag_versions({tag: A, "v9.0.0": B}, "skills/pdf")
    assert (str(tv.version), tv.tag, tv.commit, tv.convention) == ("1.2.3", tag, A, convention)


def test_skill_specific_tags_win_when_any_exist():
    tags = {"v1.0.0": A, "v2.0.0": B, "pdf@0.1.0": C}
    assert vt(tags, "skills/pdf") == [("0.1.0", "pdf@0.1.0")]
    assert vt(tags, "skills/docx") == [("2.0.0", "v2.0.0"), ("1.0.0", "v1.0.0")]


def test_non_semver_skill_tags_do_not_count_as_existing():
    tags = {"v1.0.0": A, "pdf@latest": B, "skills/pdf/vnext": C, "pdf--v1": D}
    assert vt(tags, "skills/pdf") == [("1.0.0", "v1.0.0")]


def test_precedence_go_then_plugin_then_at():
    tags = {"pdf@1.0.0": A, "pdf--v1.0.0": B, "skills/pdf/v1.0.0": C, "pdf@1.1.0": D}
    result = skill_tag_versions(tags, "skills/pdf")
    assert [(str(t.version), t.tag) for t in result] == [("1.1.0", "pdf@1.1.0"), ("1.0.0", "skills/pdf/v1.0.0")]


def test_prefix_collisions_between_skills():
    tags = {"pdf-tools@2.0.0": A, "skills/pdf-extra/v3.0.0": B, "skills/pdf/sub/v4.0.0": C, "pdf@1.0.0": D}
    assert vt(tags, "skills/pdf") == [("1.0.0", "pdf@1.0.0")]
    assert vt(tags, "skills/pdf-tools") == [("2.0.0", "pdf-tools@2.0.0")]
    assert vt(tags, "skills/pdf/sub") == [("4.0.0", "skills/pdf/sub/v4.0.0")]


def test_newest_first_semver_order():
    tags = {f"v{v}": A for v in ("1.2.0", "1.10.0", "1.9.9", "1.10.0-beta.2", "1.10.0-beta.10", "0.0.1")}
    assert [v for v, _ in vt(tags)] == ["1.10.0", "1.10.0-beta.10", "1.10.0-beta.2", "1.9.9", "1.2.0", "0.0.1"]
    assert skill_tag_versions(tags)[0].version == Version.parse("1.10.0")


def test_version_for_tag():
    assert str(version_for_tag("v1.2.3")) == "1.2.3"
    assert str(version_for_tag("skills/pdf/v1.2.3", "skills/pdf")) == "1.2.3"
    assert str(version_for_tag("pdf--v2.0.0", "skills/pdf")) == "2.0.0"
    assert str(version_for_tag("other@3.0.0", "skills/pdf")) == "3.0.0"
    assert version_for_tag("stable") is None
    assert version_for_tag("release-2024-01") is None


def test_resolve_web_ref_with_slashes_in_branch_names():
    refs = RemoteRefs(tags={"v1.0.0": A}, heads={"main": B, "feature/new-ui": C})
    assert resolve_web_ref(refs, "main", "skills/x") == ("branch", "main", "skills/x")
    assert resolve_web_ref(refs, "feature", "new-ui/skills/x") == ("branch", "feature/new-ui", "skills/x")
    assert resolve_web_ref(refs, "v1.0.0", "") == ("tag", "v1.0.0", "")
    assert resolve_web_ref(refs, "ABCDEF1", "skills/x") == ("rev", "abcdef1", "skills/x")
    assert resolve_web_ref(refs, "nope", "skills/x") is None
    both = RemoteRefs(tags={"x": A}, heads={"x": B})
    assert resolve_web_ref(both, "x", "")[0] == "tag"


@pytest.mark.parametrize(
    ("text", "url", "leaked"),
    [
        ("fatal: unable to access 'https://bob:hunter22@h/r.git/': 403", "https://bob:hunter22@h/r.git", "hunter22"),
        ("remote: token ghp_abcdef0123456789 rejected", "https://ghp_abcdef0123456789@github.com/o/r.git", "ghp_abcdef0123456789"),
        ("fatal: https://x:p%40ss@h/r.git not found", "https://x:p%40ss@h/r.git", "p%40ss"),
        ("error for p@ss", "https://x:p%40ss@h/r.git", "p@ss"),
        ("see https://someone:else@other.host/x", "", "else"),
    ],
)
def test_scrub_removes_credentials(text, url, leaked):
    out = scrub(text, [url] if url else [])
    assert leaked not in out


def test_scrub_keeps_ssh_login_name():
    assert scrub("ssh://git:pw123@host/r.git failed", ["ssh://git:pw123@host/r.git"]) == "ssh://git@host/r.git failed"
