"""Versions from tags, pins, untagged repositories, moved tags."""

from __future__ import annotations

import pytest

from skillpm.errors import SourceError
from skillpm.semver import Range, Version
from skillpm.sources.git import GitSource, TagMovedError, check_tag, remote_refs
from skillpm.sources.git import command as git_command
from skillpm.spec import GitSpec, parse_spec


def source(text: str, **kw) -> GitSource:
    spec = parse_spec(text)
    assert isinstance(spec, GitSpec)
    return GitSource(spec, **kw)


def newest(src: GitSource, rng: str) -> Version:
    allowed = Range.parse(rng)
    return max(r.version for r in src.releases() if allowed.allows(r.version))


def versions(src: GitSource) -> list[str]:
    return [str(r.version) for r in src.releases()]


@pytest.fixture
def count_git(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Records the arguments of every git command the source runs."""
    calls: list[list[str]] = []
    real = git_command.run_git

    def spy(args, **kw):  # noqa: ANN001, ANN003, ANN202
        calls.append(list(args))
        return real(args, **kw)

    for mod in ("skillpm.sources.git.command", "skillpm.sources.git.remote", "skillpm.sources.git.mirror"):
        monkeypatch.setattr(f"{mod}.run_git", spy)
    return calls


def test_single_skill_repo_v_tags_newest_in_range(git_repo, count_git):
    for v in ("0.9.0", "1.0.0", "1.2.0", "1.10.1", "2.0.0", "2.1.0-beta.1"):
        git_repo.write_skill("", "solo", version=v)
        git_repo.commit(v)
        git_repo.tag(f"v{v}")
    git_repo.tag("not-a-version")
    git_repo.tag("v1")  # not SemVer: ignored
    src = source(git_repo.url)
    assert versions(src) == ["2.1.0-beta.1", "2.0.0", "1.10.1", "1.2.0", "1.0.0", "0.9.0"]
    assert str(newest(src, "^1.0")) == "1.10.1"
    assert str(newest(src, "~1.2")) == "1.2.0"
    assert str(newest(src, ">=2")) == "2.0.0"
    rel = next(r for r in src.releases() if str(r.version) == "1.10.1")
    assert rel.tag == "v1.10.1" and rel.commit == git_repo.rev("v1.10.1")
    # resolving needed exactly one ls-remote and no clone
    assert [c[0] for c in count_git] == ["ls-remote"]
    assert not (git_repo.path.parent.parent / "cache" / "git").exists()
    # a second source for the same remote in the same run reuses the listing
    source(git_repo.url + "@^1").releases()
    assert [c[0] for c in count_git] == ["ls-remote"]


def test_bare_and_v_tags_both_count_v_wins_on_duplicates(git_repo):
    git_repo.write_skill("", "solo", version="1.0.0")
    c1 = git_repo.commit()
    git_repo.tag("1.0.0")
    git_repo.tag("v1.0.0")
    git_repo.write_skill("", "solo", version="1.1.0")
    git_repo.commit()
    git_repo.tag("1.1.0")
    rels = source(git_repo.url).releases()
    assert [(str(r.version), r.tag) for r in rels] == [("1.1.0", "1.1.0"), ("1.0.0", "v1.0.0")]
    assert rels[1].commit == c1


@pytest.mark.parametrize("annotated", [False, True])
def test_annotated_and_lightweight_tags_give_the_commit(git_repo, annotated):
    git_repo.write_skill("", "solo", version="1.0.0")
    commit = git_repo.commit()
    git_repo.tag("v1.0.0", annotated=annotated)
    tag_object = git_repo.rev("refs/tags/v1.0.0")
    assert (tag_object != commit) == annotated
    (rel,) = source(git_repo.url).releases()
    assert rel.commit == commit and len(rel.commit) == 40


@pytest.mark.parametrize(
    ("convention", "tag"),
    [("go", "skills/skill-03/v1.1.0"), ("plugin", "skill-03--v1.1.0"), ("at", "skill-03@1.1.0")],
)
def test_monorepo_per_skill_tag_conventions(monorepo, convention, tag):
    mono = monorepo(n_skills=4, convention=convention, annotated=convention == "plugin")
    src = source(f"{mono.url}#path=skills/skill-03")
    rels = src.releases()
    assert versions(src) == ["1.1.0", "1.0.0"]
    assert rels[0].tag == tag
    assert rels[0].commit == mono.repo.rev(f"{tag}^{{commit}}")
    assert src.dependencies(rels[0]) == ()
    dep = source(f"{mono.url}#path=skills/skill-02")
    assert dep.dependencies(dep.releases()[0]) == (f"{mono.url}#path=skills/skill-01",)


def test_skill_specific_tags_win_over_repo_wide_and_fallback(monorepo):
    mono = monorepo(n_skills=3, convention="repo", versions=("1.0.0", "2.0.0"))
    repo = mono.repo
    repo.tag("skill-01--v0.5.0", ref="HEAD~1")
    # skill-01 has its own tag: only that one counts
    assert versions(source(f"{mono.url}#path=skills/skill-01")) == ["0.5.0"]
    # the others fall back to the repository-wide tags
    assert versions(source(f"{mono.url}#path=skills/skill-02")) == ["2.0.0", "1.0.0"]


def test_precedence_between_conventions_for_one_version(git_repo):
    git_repo.write_skill("tools/pdf", version="1.0.0")
    first = git_repo.commit()
    git_repo.tag("pdf@1.0.0")
    git_repo.write("tools/pdf/extra.md", "x")
    second = git_repo.commit()
    git_repo.tag("tools/pdf/v1.0.0")
    git_repo.tag("pdf--v1.0.0", ref=first)
    (rel,) = source(f"{git_repo.url}#path=tools/pdf").releases()
    assert (rel.tag, rel.commit) == ("tools/pdf/v1.0.0", second)


def test_untagged_repo_follows_default_branch(git_repo):
    git_repo.write_skill("", "solo", version="0.3.0")
    git_repo.commit()
    git_repo.checkout("trunk", new=True)  # the default branch (HEAD) is now trunk
    git_repo.write_skill("", "solo", version="0.4.0")
    head = git_repo.commit()
    git_repo.branch("zzz", "main")
    (rel,) = source(git_repo.url).releases()
    assert (str(rel.version), rel.branch, rel.commit, rel.tag) == ("0.4.0", "trunk", head, None)


def test_untagged_without_version_is_0_0_0_and_branch_pin(git_repo):
    git_repo.write_skill("", "solo", version=None)
    git_repo.commit()
    git_repo.checkout("dev", new=True)
    git_repo.write_skill("", "solo", version="5.0.0")
    dev = git_repo.commit()
    git_repo.checkout("main")
    (rel,) = source(git_repo.url).releases()
    assert (str(rel.version), rel.branch) == ("0.0.0", "main")
    (rel,) = source(f"{git_repo.url}#branch=dev").releases()
    assert (str(rel.version), rel.branch, rel.commit) == ("5.0.0", "dev", dev)
    with pytest.raises(SourceError, match="branch nope not found"):
        source(f"{git_repo.url}#branch=nope").releases()


def test_tag_pin_is_a_single_release(git_repo):
    for v in ("1.0.0", "2.0.0"):
        git_repo.write_skill("", "solo", version=v)
        git_repo.commit()
        git_repo.tag(f"v{v}", annotated=True)
    git_repo.tag("stable", ref="v1.0.0^{}")
    (rel,) = source(f"{git_repo.url}#tag=v1.0.0").releases()
    assert (str(rel.version), rel.tag, rel.commit) == ("1.0.0", "v1.0.0", git_repo.rev("v1.0.0^{commit}"))
    # a non-version tag takes its version from SKILL.md
    (rel,) = source(f"{git_repo.url}#tag=stable").releases()
    assert (str(rel.version), rel.tag) == ("1.0.0", "stable")
    with pytest.raises(SourceError, match="tag v9.9.9 not found"):
        source(f"{git_repo.url}#tag=v9.9.9").releases()


def test_rev_pin_reachable_abbreviated_and_unreachable(git_repo):
    git_repo.write_skill("", "solo", version="1.0.0")
    first = git_repo.commit()
    git_repo.write_skill("", "solo", version="1.1.0")
    git_repo.commit()
    (rel,) = source(f"{git_repo.url}#rev={first}").releases()
    assert (rel.commit, str(rel.version), rel.tag, rel.branch) == (first, "1.0.0", None, None)
    (rel,) = source(f"{git_repo.url}#rev={first[:10]}").releases()
    assert rel.commit == first

    # a commit only reachable from a non-branch ref (like a PR head)
    git_repo.checkout("side", new=True)
    git_repo.write_skill("", "solo", version="9.9.9")
    hidden = git_repo.commit()
    git_repo.run("update-ref", "refs/pull/1/head", hidden)
    git_repo.checkout("main")
    git_repo.run("branch", "-D", "side")
    with pytest.raises(SourceError, match="not reachable from any branch or tag"):
        source(f"{git_repo.url}#rev={hidden}").releases()
    with pytest.raises(SourceError, match="not found"):
        source(f"{git_repo.url}#rev={'0' * 40}").releases()


def test_web_url_ref_is_tag_or_branch(git_repo, monkeypatch):
    git_repo.write_skill("skills/pdf", version="1.0.0")
    c1 = git_repo.commit()
    git_repo.tag("v1.0.0")
    git_repo.checkout("feature/new", new=True)
    git_repo.write_skill("skills/pdf", version="1.5.0")
    c2 = git_repo.commit()
    git_repo.checkout("main")
    for ref, path, want in [
        ("v1.0.0", "skills/pdf", ("tag", c1)),
        ("feature", "new/skills/pdf", ("branch", c2)),  # branch names with '/'
        (c1[:12], "skills/pdf", ("rev", c1)),
    ]:
        src = GitSource(GitSpec(url=git_repo.url, path=path, ref=ref))
        (rel,) = src.releases()
        kind = "tag" if rel.tag else "branch" if rel.branch else "rev"
        assert (kind, rel.commit) == want
        assert src.path == "skills/pdf"
    with pytest.raises(SourceError, match="neither a tag nor a branch"):
        GitSource(GitSpec(url=git_repo.url, path="skills/pdf", ref="nope")).releases()


def test_metadata_version_mismatch_warns_or_fails_when_strict(git_repo):
    git_repo.write_skill("", "solo", version="1.0.0")
    git_repo.commit()
    git_repo.tag("v1.2.0")
    src = source(git_repo.url)
    (rel,) = src.releases()
    src.dependencies(rel)
    assert any("metadata.version 1.0.0" in w and "tag says 1.2.0" in w for w in src.warnings)
    strict = source(git_repo.url, strict=True)
    with pytest.raises(SourceError, match="declares metadata.version 1.0.0"):
        strict.dependencies(strict.releases()[0])


def test_tag_moved_detected(git_repo):
    git_repo.write_skill("", "solo", version="1.0.0")
    locked = git_repo.commit()
    git_repo.tag("v1.0.0", annotated=True)
    check_tag(git_repo.url, "v1.0.0", locked)  # unchanged: fine
    git_repo.write("SKILL.md", (git_repo.path / "SKILL.md").read_text() + "\nsneaky\n")
    moved = git_repo.commit()
    git_repo.tag("v1.0.0", annotated=True, force=True)
    remote_refs(git_repo.url, refresh=True)
    with pytest.raises(TagMovedError) as err:
        check_tag(git_repo.url, "v1.0.0", locked, name="solo")
    msg = str(err.value)
    assert f"tag moved: v1.0.0 of {git_repo.url} was {locked[:12]} when locked, now {moved[:12]}" in msg
    assert "skillpm update solo" in msg
    git_repo.run("tag", "-d", "v1.0.0")
    remote_refs(git_repo.url, refresh=True)
    with pytest.raises(TagMovedError, match="no longer exists"):
        source(git_repo.url).check_tag("v1.0.0", locked)


def test_errors_for_missing_skill_and_repo(git_repo, tmp_path):
    git_repo.write("README.md", "no skill here")
    git_repo.commit()
    with pytest.raises(SourceError, match="no SKILL.md at the repository root"):
        source(git_repo.url).releases()
    with pytest.raises(SourceError, match="cannot list the tags and branches"):
        source((tmp_path / "nowhere").as_uri()).releases()


def test_mismatch_checked_when_installing_from_a_lock_without_extra_fetch(git_repo, tmp_path):
    git_repo.write_skill("", "solo", version="1.0.0")
    git_repo.commit()
    git_repo.tag("v1.2.0")
    (rel,) = source(git_repo.url).releases()
    from skillpm.sources.git import reset_run_state

    reset_run_state()
    strict = GitSource(GitSpec(url=git_repo.url, tag="v1.2.0", rev=rel.commit), strict=True)
    with pytest.raises(SourceError, match="declares metadata.version 1.0.0"):
        strict.materialize(rel, tmp_path / "strict")
    assert not (tmp_path / "strict").exists()
    lenient = GitSource(GitSpec(url=git_repo.url, tag="v1.2.0", rev=rel.commit))
    lenient.materialize(rel, tmp_path / "ok")
    assert (tmp_path / "ok/SKILL.md").is_file()
    assert any("tag says 1.2.0" in w for w in lenient.warnings)
    (again,) = lenient.releases()
    assert (again.commit, again.tag, str(again.version)) == (rel.commit, "v1.2.0", "1.2.0")


def test_lock_install_reads_metadata_json_like_resolving_does(git_repo, tmp_path):
    import json

    git_repo.write_skill("", "solo", version=None)
    git_repo.write("metadata.json", json.dumps({"version": "1.0.0"}))
    git_repo.commit()
    git_repo.tag("v1.2.0")
    resolving = source(git_repo.url, strict=True)
    with pytest.raises(SourceError, match="declares metadata.version 1.0.0"):
        resolving.dependencies(resolving.releases()[0])
    (rel,) = source(git_repo.url).releases()
    from skillpm.sources.git import reset_run_state

    reset_run_state()
    strict = GitSource(GitSpec(url=git_repo.url, tag="v1.2.0", rev=rel.commit), strict=True)
    with pytest.raises(SourceError, match="declares metadata.version 1.0.0"):
        strict.materialize(rel, tmp_path / "strict")
    assert not (tmp_path / "strict").exists()
