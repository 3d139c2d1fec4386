"""The registry file formats: pure functions, no I/O."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skillpm.errors import SourceError
from skillpm.registries.protocol import (
    IndexLine,
    SearchEntry,
    deps_to_specs,
    dump_config,
    dump_line,
    dump_search,
    index_path,
    latest,
    parse_config,
    parse_index,
    parse_search,
    specs_to_deps,
)
from skillpm.spec import parse_spec

CK = "sha256:" + "a" * 64
IN = "sha256:" + "b" * 64


def line(vers: str, **kw) -> IndexLine:
    return IndexLine(name=kw.pop("name", "docker/basics"), vers=vers, cksum=kw.pop("cksum", CK), integrity=kw.pop("integrity", IN), **kw)


@pytest.mark.parametrize(
    ("specs", "deps"),
    [
        (["docker/basics@^1.0"], {"docker/basics": "^1.0"}),
        (["docker/basics"], {"docker/basics": "*"}),
        (["team:docker/basics@~1.2"], {"team:docker/basics": "~1.2"}),
        (["github:acme/skills/reviewer@^2"], {"https://github.com/acme/skills.git#path=reviewer": "^2"}),
        (["https://host/o/r.git#path=skills/x&tag=v1.2.0"], {"https://host/o/r.git#path=skills/x&tag=v1.2.0": "*"}),
        (["git@host:o/r.git@^1.0"], {"git@host:o/r.git": "^1.0"}),
    ],
)
def test_specs_to_deps_and_back(specs, deps):
    assert specs_to_deps(specs) == deps
    rebuilt = deps_to_specs(deps)
    # the rebuilt strings parse to the same specs the skill declared
    assert [parse_spec(s) for s in rebuilt] == [parse_spec(s) for s in specs]
    assert specs_to_deps(rebuilt) == deps


def test_git_dependency_range_goes_before_the_fragment():
    assert deps_to_specs({"https://host/o/r.git#path=x": "^1"}) == ("https://host/o/r.git@^1#path=x",)
    spec = parse_spec("https://host/o/r.git@^1#path=x")
    assert spec.range == "^1" and spec.path == "x"


def test_specs_to_deps_refuses_paths_and_duplicates():
    with pytest.raises(SourceError, match="local path"):
        specs_to_deps(["./other"])
    with pytest.raises(SourceError, match="listed twice"):
        specs_to_deps(["a/b@^1", "a/b@^2"])
    with pytest.raises(SourceError, match="not a registry id|invalid skill spec"):
        specs_to_deps(["Not Valid"])


id_segment = st.from_regex(r"[a-z0-9]{1,6}(-[a-z0-9]{1,4}){0,2}", fullmatch=True)
ids = st.lists(id_segment, min_size=1, max_size=3).map("/".join)
ranges = st.sampled_from(["*", "^1.0", "~1.2.3", ">=1.0.0 <2.0.0", "1.2.3", "^0.1"])


@given(st.dictionaries(ids, ranges, max_size=5))
def test_deps_roundtrip_property(deps):
    assert specs_to_deps(deps_to_specs(deps)) == {k: v for k, v in deps.items()}


def test_dump_line_is_compact_ordered_and_roundtrips():
    ln = line("1.2.0", deps={"z/z": "*", "a/a": "^1"}, description="D")
    text = dump_line(ln)
    assert "\n" not in text
    assert list(json.loads(text)) == ["name", "vers", "deps", "cksum", "integrity", "yanked", "description"]
    assert list(json.loads(text)["deps"]) == ["a/a", "z/z"]
    assert IndexLine.model_validate_json(text) == ln
    assert "description" not in json.loads(dump_line(line("1.0.0")))


def test_parse_index_later_line_may_only_flip_yanked():
    a = dump_line(line("1.0.0"))
    b = dump_line(line("1.0.0", yanked=True))
    [only] = parse_index(f"{a}\n{b}\n", "docker/basics", "x")
    assert only.yanked is True
    c = dump_line(line("1.0.0", cksum="sha256:" + "c" * 64))
    with pytest.raises(SourceError, match="published twice with different content"):
        parse_index(f"{a}\n{c}\n", "docker/basics", "x")


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('{"name":"docker/basics","vers":"1.x","cksum":"%s","integrity":"%s"}' % (CK, IN), "line 1: vers"),
        ('{"name":"docker/basics","vers":"1.0.0","cksum":"md5:1","integrity":"%s"}' % IN, "line 1: cksum"),
        ('{"name":"other/id","vers":"1.0.0","cksum":"%s","integrity":"%s"}' % (CK, IN), "names 'other/id'"),
        ("not json", "line 1"),
    ],
)
def test_parse_index_errors_name_the_line(text, match):
    with pytest.raises(SourceError, match=match):
        parse_index(text, "docker/basics", "x")


def test_parse_index_skips_blank_lines_and_ignores_unknown_keys():
    raw = json.loads(dump_line(line("1.0.0")))
    raw["future"] = 1
    [ln] = parse_index("\n" + json.dumps(raw) + "\n\n", "docker/basics", "x")
    assert ln.vers == "1.0.0"


def test_config_defaults_and_errors():
    cfg = parse_config(b'{"skillpm-registry": 1}', "r")
    assert cfg.dl == "dl/{name}/{version}.tar.gz" and cfg.api is None
    assert cfg.archive_ref("docker/basics", "1.0.0") == "dl/docker/basics/1.0.0.tar.gz"
    assert json.loads(dump_config()) == {"skillpm-registry": 1, "dl": "dl/{name}/{version}.tar.gz"}
    with pytest.raises(SourceError, match="not supported"):
        parse_config(b'{"skillpm-registry": 2}', "r")
    with pytest.raises(SourceError, match=r"\{name\}"):
        parse_config(b'{"skillpm-registry": 1, "dl": "x.tar.gz"}', "r")
    with pytest.raises(SourceError, match="not a skillpm registry config"):
        parse_config(b"{}", "r")
    with pytest.raises(SourceError, match="not valid JSON"):
        parse_config(b"<html>", "r")


def test_latest_skips_yanked_and_prereleases():
    lines = [line("1.0.0"), line("1.2.0", yanked=True), line("1.1.0"), line("2.0.0-rc.1")]
    assert latest(lines).vers == "1.1.0"
    assert latest([line("2.0.0-rc.1")]).vers == "2.0.0-rc.1"
    assert latest([line("1.0.0", yanked=True)]) is None


def test_search_index_roundtrip_and_order():
    text = dump_search([SearchEntry(name="b/b", vers="1.0.0"), SearchEntry(name="a/a", vers="2.0.0", description="x")])
    assert [e.name for e in parse_search(text, "r")] == ["a/a", "b/b"]
    with pytest.raises(SourceError):
        parse_search("[]", "r")


def test_index_path_checks_ids():
    assert index_path("docker/basics") == "index/docker/basics"
    for bad in ("../x", "Docker/basics", "a//b", "a/b/", ""):
        with pytest.raises(SourceError, match="not a registry id"):
            index_path(bad)
