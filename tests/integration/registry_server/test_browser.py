"""The browse pages in a real headless Chromium (skipped when it is not installed).

CI installs Debian's `chromium` package; locally: apt-get install chromium, or
point SKILLPM_CHROMIUM at a Chromium/Chrome binary.
"""

from __future__ import annotations

import re
import urllib.request

import pytest

from skillpm.archive import pack

from .chromium import Chromium, dump_dom, find_chromium

CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="headless browser tests need Chromium (apt-get install chromium, or set SKILLPM_CHROMIUM)"
)

_EVIL_BODY = """# Evil skill

<script>window.__pwned = "script"; document.title = "pwned"</script>

<img src="x" onerror="window.__pwned = 'img'; document.title = 'pwned'">

<svg><script>window.__pwned = "svg"</script></svg>
<svg onload="window.__pwned = 'svg-onload'"></svg>

<iframe srcdoc="<script>parent.__pwned = 'iframe'</script>"></iframe>

<a id="jslink" href="javascript:window.__pwned='link'">click me</a>

<details open ontoggle="window.__pwned = 'details'"><summary>s</summary>x</details>

<form action="javascript:window.__pwned='form'"><button id="go">go</button></form>

[markdown link](javascript:window.__pwned='md')

<object data="javascript:window.__pwned='object'"></object>

Plain text that must survive: **bold** and `code`.
"""


def _publish(srv, make_skill, ident: str, version: str = "1.0.0", **kw) -> None:
    folder = make_skill(ident.rsplit("/", 1)[1], parent=srv.data.parent / "src" / ident.replace("/", "_") / version, version=version, **kw)
    req = urllib.request.Request(
        srv.url + f"api/v1/skills/{ident}/{version}", data=pack(folder), method="PUT", headers={"Authorization": f"Bearer {srv.admin}"}
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        assert resp.status == 201


@pytest.fixture
def browser(tmp_path):
    with Chromium.launch(CHROMIUM, tmp_path / "chromium") as b:
        yield b


@pytest.fixture
def populated(registry_server, make_skill):
    srv = registry_server(git=False)
    _publish(srv, make_skill, "docker/basics", description="Docker basics: images and containers.", metadata={"keywords": "containers"})
    _publish(srv, make_skill, "docker/compose", description="Multi-container apps with compose.")
    _publish(srv, make_skill, "python/uv", description="Python projects with uv.", metadata={"keywords": "packaging"},
             body="# uv\n\n| command | what |\n|---|---|\n| `uv sync` | install |\n")
    _publish(srv, make_skill, "python/uv", version="1.1.0", description="Python projects with uv.")
    req = urllib.request.Request(srv.url + "api/v1/skills/python/uv/1.1.0/yank", method="PUT", headers={"Authorization": f"Bearer {srv.admin}"})
    urllib.request.urlopen(req, timeout=30).close()
    return srv


_VISIBLE = "[...document.querySelectorAll('#skills li')].filter(li => !li.hidden).map(li => li.dataset.id)"


def test_the_list_loads_and_typing_narrows_it(populated, browser):
    browser.goto(populated.url)
    assert browser.eval("document.title") == "skillpm registry"
    assert browser.eval(_VISIBLE) == ["docker/basics", "docker/compose", "python/uv"]

    browser.type_into("#q", "docker")
    assert browser.eval(_VISIBLE) == ["docker/basics", "docker/compose"]
    assert browser.eval("document.getElementById('count').textContent") == "2"

    browser.type_into("#q", "containers images")  # every word must match: only basics has "images"
    assert browser.eval(_VISIBLE) == ["docker/basics"]

    browser.type_into("#q", "packaging")  # a keyword
    assert browser.eval(_VISIBLE) == ["python/uv"]

    browser.type_into("#q", "no-such-skill")
    assert browser.eval(_VISIBLE) == []
    assert browser.eval("document.getElementById('empty').hidden") is False
    assert browser.console_errors() == []


def test_the_search_box_works_without_script_through_q(populated, tmp_path):
    dom = dump_dom(CHROMIUM, populated.url + "?q=compose", tmp_path / "profile")
    items = dict(re.findall(r'<li data-search="[^"]*" data-id="([^"]+)"( hidden(?:="")?)?>', dom))
    assert set(items) == {"docker/basics", "docker/compose", "python/uv"}
    assert items["docker/compose"] == "" and items["docker/basics"] and items["python/uv"]
    assert 'value="compose"' in dom


def test_a_skill_page_renders(populated, browser):
    browser.goto(populated.url + "skills/python/uv")
    assert browser.eval("document.title") == "python/uv - skillpm registry"
    assert browser.eval("document.getElementById('install').textContent") == "skillpm add python/uv@^1.0.0"
    rows = browser.eval("[...document.querySelectorAll('#versions tbody tr')].map(tr => [tr.dataset.version, tr.className])")
    assert rows == [["1.1.0", "yanked"], ["1.0.0", "live"]]
    assert browser.eval("document.querySelector('#versions tr.yanked .yanked-mark').textContent") == "yanked"
    assert browser.eval("document.querySelector('#readme table td code').textContent") == "uv sync"
    # the archive link works from the page
    href = browser.eval("document.querySelector('#versions tr.live a').href")
    with urllib.request.urlopen(href, timeout=30) as resp:
        assert resp.headers["Content-Type"] == "application/gzip"


def test_injected_script_in_a_skill_never_runs(registry_server, make_skill, browser, tmp_path):
    srv = registry_server(git=False)
    _publish(srv, make_skill, "acme/evil", body=_EVIL_BODY, description='Evil <img src=x onerror="window.__pwned=1"> skill.')
    for url in (srv.url + "skills/acme/evil", srv.url, srv.url + "?q=evil"):
        browser.goto(url)
        browser.eval("new Promise(r => setTimeout(r, 300))")  # let onerror/onload/ontoggle have their chance
        assert browser.eval("window.__pwned === undefined"), browser.eval("String(window.__pwned)")
        assert "pwned" not in browser.eval("document.title")
        scripts = browser.eval("[...document.scripts].map(s => s.src)")
        assert scripts == [srv.url + "static/browse.js"], scripts
        handlers = browser.eval(
            "[...document.querySelectorAll('*')].flatMap(e => [...e.attributes].filter(a => a.name.startsWith('on')).map(a => e.tagName + ' ' + a.name))"
        )
        assert handlers == []
        assert browser.eval("document.querySelectorAll('iframe, object, embed, svg, #readme form').length") == 0
        # clicking what looks like a link or a button runs nothing and stays on the page
        browser.eval("for (const el of document.querySelectorAll('#readme a, #readme button')) el.click()")
        browser.eval("new Promise(r => setTimeout(r, 300))")
        assert browser.eval("location.href") == url
        assert browser.eval("window.__pwned === undefined"), browser.eval("String(window.__pwned)")
    browser.goto(srv.url + "skills/acme/evil")
    assert browser.eval("document.querySelector('#readme strong').textContent") == "bold"
    assert "Evil <img" in browser.eval("document.querySelector('.description').textContent")  # shown as text

    dom = dump_dom(CHROMIUM, srv.url + "skills/acme/evil", tmp_path / "profile2")
    assert "<title>acme/evil - skillpm registry</title>" in dom
    main = dom.split("<main>", 1)[1].split("</main>", 1)[0]
    assert "<script" not in main
    from html.parser import HTMLParser

    bad: list = []

    class Attrs(HTMLParser):
        def handle_starttag(self, tag, attrs):  # noqa: ANN001
            bad.extend((tag, name) for name, _ in attrs if name.startswith("on"))

    Attrs().feed(main)
    assert bad == []
