"""Preparing, publishing and yanking into folders; building registries."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import pytest

from skillpm.errors import SkillpmError, SourceError
from skillpm.registries.protocol import parse_index
from skillpm.registries.publish import (
    AlreadyPublished,
    InvalidSkill,
    build_registry,
    derive_id,
    find_skills,
    prepare,
    publish_to_folder,
    yank_in_folder,
)
from skillpm.skill import read_skill


def info_of(folder: Path):
    info, problems = read_skill(folder, strict=True)
    assert info is not None, problems
    return info


def test_id_precedence(make_skill, tmp_path):
    folder = make_skill("basics", parent=tmp_path / "repo" / "skills" / "docker")
    assert derive_id(folder, info_of(folder)) == "docker/basics"
    assert derive_id(folder, info_of(folder), "other/basics") == "other/basics"
    ns = make_skill("basics", parent=tmp_path / "x", metadata={"namespace": "tools"})
    assert derive_id(ns, info_of(ns)) == "tools/basics"
    declared = make_skill("basics", parent=tmp_path / "y" / "skills" / "z", metadata={"skill_id": "acme/basics"})
    assert derive_id(declared, info_of(declared)) == "acme/basics"
    side = make_skill("basics", parent=tmp_path / "w", sidecar={"skill_id": "side/basics"})
    assert derive_id(side, info_of(side)) == "side/basics"
    nested = make_skill("deep", parent=tmp_path / "skills" / "a" / "skills" / "b")
    assert derive_id(nested, info_of(nested)) == "b/deep"  # the nearest skills/ folder


@pytest.mark.parametrize(
    ("explicit", "match"),
    [("Docker/basics", "not a registry id"), ("docker/other", "must end with the skill's name"), ("docker//basics", "not a registry id")],
)
def test_bad_ids(make_skill, tmp_path, explicit, match):
    folder = make_skill("basics")
    with pytest.raises(SkillpmError, match=match):
        derive_id(folder, info_of(folder), explicit)


def test_prepare_validates_strictly(make_skill):
    folder = make_skill("loose", version=None, extra_frontmatter={"when_to_use": "x"})
    with pytest.raises(InvalidSkill) as e:
        prepare(folder, ident="a/loose")
    fields = sorted(p.field for p in e.value.problems)
    assert fields == ["metadata.version", "when_to_use"]
    assert all(str(p).startswith(str(folder / "SKILL.md") + ": ") for p in e.value.problems)


def test_prepare_refuses_local_path_dependencies(make_skill):
    folder = make_skill("x", dependencies=["./other"])
    with pytest.raises(SourceError, match="local path"):
        prepare(folder, ident="a/x")


def test_prepare_is_deterministic_and_line_matches(make_skill):
    folder = make_skill("x", version="1.2.0", dependencies=["a/y@^1", "b/z"])
    one, two = prepare(folder, ident="a/x"), prepare(folder, ident="a/x")
    assert one.archive == two.archive and one.line == two.line
    assert one.line.deps == {"a/y": "^1", "b/z": "*"}
    assert one.line.vers == "1.2.0" and one.line.description == "Test skill x. Use when testing skillpm."


def test_publish_to_folder_create_only_append_only(make_skill, tmp_path):
    reg = tmp_path / "reg"
    v1 = prepare(make_skill("x", version="1.0.0"), ident="a/x")
    assert publish_to_folder(reg, v1) == "published"
    v2 = prepare(make_skill("x", version="1.1.0"), ident="a/x")
    publish_to_folder(reg, v2)
    index = (reg / "index" / "a" / "x").read_text()
    assert [ln.vers for ln in parse_index(index, "a/x", "t")] == ["1.0.0", "1.1.0"]
    assert index.endswith("\n") and index.count("\n") == 2
    assert json.loads((reg / "index.json").read_text())["skills"] == [{"name": "a/x", "vers": "1.1.0", "description": "Test skill x. Use when testing skillpm."}]
    with pytest.raises(AlreadyPublished, match="already published"):
        publish_to_folder(reg, v1)
    assert publish_to_folder(reg, v1, skip_same=True) == "unchanged"
    # same version, other content: refused even with skip_same
    changed = make_skill("x", version="1.0.0", files={"extra.md": "new\n"})
    with pytest.raises(AlreadyPublished):
        publish_to_folder(reg, prepare(changed, ident="a/x"), skip_same=True)
    # an archive left over by an interrupted publish with other bytes is never replaced
    v3 = prepare(make_skill("x", version="1.2.0"), ident="a/x")
    (reg / "dl" / "a" / "x").mkdir(parents=True, exist_ok=True)
    (reg / "dl" / "a" / "x" / "1.2.0.tar.gz").write_bytes(b"garbage")
    with pytest.raises(AlreadyPublished, match="never replaced"):
        publish_to_folder(reg, v3)
    (reg / "dl" / "a" / "x" / "1.2.0.tar.gz").write_bytes(v3.archive)  # same bytes: the publish completes
    assert publish_to_folder(reg, v3) == "published"


def test_publish_refuses_a_non_registry_folder(make_skill, tmp_path):
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("x")
    with pytest.raises(SourceError, match="not a skillpm registry"):
        publish_to_folder(busy, prepare(make_skill("x"), ident="a/x"))
    assert [p.name for p in busy.iterdir()] == ["notes.txt"]  # no lock left in someone else's folder


def test_the_publish_lock_lives_in_the_registry_folder(make_skill, tmp_path, monkeypatch):
    reg = tmp_path / "reg"
    monkeypatch.setenv("SKILLPM_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(SourceError, match="not a skillpm registry"):
        yank_in_folder(reg, "a/x", "1.0.0", undo=False)
    assert not reg.exists()  # yanking in no registry creates nothing
    publish_to_folder(reg, prepare(make_skill("x"), ident="a/x"))
    assert (reg / ".skillpm" / "publish.lock").is_file()
    assert (reg / ".skillpm" / ".gitignore").read_text().splitlines()[-1] == "*"
    assert not (tmp_path / "cache" / "locks").exists()
    # a registry whose only other entry is the lock is still "empty"; one holding a symlinked .skillpm is refused
    fresh = tmp_path / "fresh"
    (fresh / ".skillpm").mkdir(parents=True)
    publish_to_folder(fresh, prepare(make_skill("x"), ident="a/x"))
    bad, outside = tmp_path / "bad", tmp_path / "outside"
    outside.mkdir()
    publish_to_folder(bad, prepare(make_skill("x"), ident="a/x"))
    shutil.rmtree(bad / ".skillpm")
    (bad / ".skillpm").symlink_to(outside)
    with pytest.raises(SkillpmError, match="symlink"):
        publish_to_folder(bad, prepare(make_skill("x", version="2.0.0"), ident="a/x"))
    assert list(outside.iterdir()) == []


def test_concurrent_publishes_keep_every_line(make_skill, tmp_path):
    reg = tmp_path / "reg"
    preps = [prepare(make_skill("x", parent=tmp_path / f"v{i}", version=f"1.{i}.0", files={}), ident="a/x") for i in range(8)]
    errors = []

    def run(p):
        try:
            publish_to_folder(reg, p)
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=run, args=(p,)) for p in preps]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(ln.vers for ln in parse_index((reg / "index" / "a" / "x").read_bytes(), "a/x", "t")) == [f"1.{i}.0" for i in range(8)]


def test_yank_rewrites_only_the_flag(make_skill, tmp_path):
    reg = tmp_path / "reg"
    for v in ("1.0.0", "1.1.0"):
        publish_to_folder(reg, prepare(make_skill("x", version=v), ident="a/x"))
    before = (reg / "index" / "a" / "x").read_text().splitlines()
    assert yank_in_folder(reg, "a/x", "1.1.0", undo=False) is True
    after = (reg / "index" / "a" / "x").read_text().splitlines()
    assert after[0] == before[0] and after[1] == before[1].replace('"yanked":false', '"yanked":true')
    assert json.loads((reg / "index.json").read_text())["skills"][0]["vers"] == "1.0.0"
    assert yank_in_folder(reg, "a/x", "1.1.0", undo=False) is False
    assert yank_in_folder(reg, "a/x", "1.1.0", undo=True) is True
    assert (reg / "index" / "a" / "x").read_text().splitlines() == before
    with pytest.raises(SourceError, match=r"a/x 9.0.0 is not published .*versions: 1.0.0, 1.1.0"):
        yank_in_folder(reg, "a/x", "9.0.0", undo=False)


def test_build_registry_from_a_tree(make_skill, tmp_path):
    tree = tmp_path / "tree"
    make_skill("core", parent=tree / "lib")
    make_skill("web", parent=tree / "app", dependencies=["lib/core"])
    make_skill("hidden", parent=tree / "_drafts" / "x")
    assert [p.name for p in find_skills(tree)] == ["web", "core"]
    results = build_registry(tree, tmp_path / "out")
    assert results == [("app/web", "1.0.0", "published"), ("lib/core", "1.0.0", "published")]
    assert build_registry(tree, tmp_path / "out") == [("app/web", "1.0.0", "unchanged"), ("lib/core", "1.0.0", "unchanged")]
    make_skill("bad", parent=tree / "lib", version=None)
    with pytest.raises(InvalidSkill):
        build_registry(tree, tmp_path / "out2")
    assert not (tmp_path / "out2").exists()


@pytest.mark.parametrize("where", ["index", "dl"])
def test_publish_to_folder_refuses_symlinks_inside_the_registry(make_skill, tmp_path, where):
    reg, outside = tmp_path / "reg", tmp_path / "outside"
    outside.mkdir()
    prep = prepare(make_skill("basics", version="1.0.0"), ident="docker/basics")
    publish_to_folder(reg, prepare(make_skill("other", version="1.0.0"), ident="a/other"))
    (reg / where).mkdir(exist_ok=True)
    (reg / where / "docker").symlink_to(outside)
    with pytest.raises(SkillpmError, match="symlink|outside"):
        publish_to_folder(reg, prep)
    assert list(outside.iterdir()) == []


def test_publish_to_folder_refuses_a_file_where_a_folder_belongs(make_skill, tmp_path):
    reg = tmp_path / "reg"
    publish_to_folder(reg, prepare(make_skill("other", version="1.0.0"), ident="a/other"))
    (reg / "index" / "docker").write_text("/tmp/outside")  # a symlink checked out as a plain file
    with pytest.raises(SkillpmError, match="not a folder"):
        publish_to_folder(reg, prepare(make_skill("basics", version="1.0.0"), ident="docker/basics"))


@pytest.mark.parametrize(
    ("api", "sent"),
    [("https://reg.example/api/", True), ("/api/", True), ("https://evil.example/api/", False)],
)
def test_owners_sends_a_token_only_to_the_registrys_own_host(mock_net, api, sent):
    import httpx

    from skillpm.registries.locations import pick_registry
    from skillpm.registries.protocol import RegistryConfig, dump_config
    from skillpm.registries.publish import owners

    config = dump_config(RegistryConfig.model_validate({"skillpm-registry": 1, "api": api}))

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/config.json":
            return httpx.Response(200, content=config.encode())
        return httpx.Response(200, json={"users": ["alice", "bob"]})

    seen = mock_net(handler)
    reg = pick_registry("https://reg.example/", project_root=None, registries={})
    if sent:
        assert owners(reg, "docker/basics", users=["bob"], token="tok-secret") == ["alice", "bob"]
    else:
        with pytest.raises(SkillpmError, match="another host"):
            owners(reg, "docker/basics", users=["bob"], token="tok-secret")
    calls = [r for r in seen if r.url.path.endswith("/owners")]
    assert len(calls) == (1 if sent else 0)
    assert all(r.url.host == "reg.example" for r in seen if "authorization" in r.headers)
    if sent:
        assert calls[0].headers["authorization"] == "Bearer tok-secret" and calls[0].method == "PUT"
