"""The browse pages: the skill list with a search box, and one page per skill.

Everything from a skill is untrusted. Text goes through html.escape; the
SKILL.md body is rendered by markdown-it-py and then sanitized by nh3 (no
script, no event handlers, no javascript: URLs, no style, no forms or
frames). On top of that every page is sent with a Content-Security-Policy
that allows scripts only from this server's own /static/browse.js, so even a
sanitizer miss could not run a script.
"""

from __future__ import annotations

import functools
import html
from pathlib import Path
from string import Template

from fastapi import Request
from fastapi.responses import HTMLResponse

__all__ = ["CSP", "render_index", "render_skill", "render_error", "render_markdown", "matches"]

CSP = "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; script-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-cache",
}
_TEMPLATES = Path(__file__).with_name("templates")


@functools.cache
def _template(name: str) -> Template:
    return Template((_TEMPLATES / name).read_text(encoding="utf-8"))


def e(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


@functools.cache
def _markdown():
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": True, "linkify": False, "typographer": False}).enable("table").enable("strikethrough")


def render_markdown(text: str) -> str:
    """Markdown -> HTML that cannot run anything (markdown-it-py, then nh3)."""
    import nh3

    raw = _markdown().render(text or "")
    return nh3.clean(
        raw,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        clean_content_tags={"script", "style", "template", "noscript", "iframe", "object", "embed", "svg", "math"},
        strip_comments=True,
    )


def matches(entry: dict, terms: list[str]) -> bool:
    text = _haystack(entry)
    return all(t in text for t in terms)


def _haystack(entry: dict) -> str:
    return " ".join([entry["name"], entry.get("description") or "", *entry.get("keywords", [])]).lower()


def _page(request: Request, *, title: str, main: str, q: str = "", status: int = 200) -> HTMLResponse:
    root = e(request.scope.get("root_path", "").rstrip("/"))
    body = _template("base.html").substitute(title=e(title), root=root, q=e(q), main=main)
    return HTMLResponse(body, status_code=status, headers=HEADERS)


def render_index(request: Request, catalog: list[dict], q: str) -> HTMLResponse:
    root = e(request.scope.get("root_path", "").rstrip("/"))
    terms = q.lower().split()
    items = []
    shown = 0
    for entry in catalog:
        ok = matches(entry, terms)
        shown += ok
        kws = "".join(f'<span class="kw">{e(k)}</span>' for k in entry.get("keywords", []))
        items.append(
            f'<li data-search="{e(_haystack(entry))}" data-id="{e(entry["name"])}"{"" if ok else " hidden"}>'
            f'<a class="name" href="{root}/skills/{e(entry["name"])}">{e(entry["name"])}</a> '
            f'<span class="vers">{e(entry["vers"])}</span> {kws}'
            f'<p>{e(entry.get("description"))}</p></li>'
        )
    main = _template("index.html").substitute(
        shown=shown,
        total=len(catalog),
        items="\n".join(items),
        empty_hidden="" if shown == 0 else " hidden",
    )
    title = f"Search: {q} - skillpm registry" if q else "skillpm registry"
    return _page(request, title=title, main=main, q=q)


def render_skill(request: Request, page) -> HTMLResponse:  # noqa: ANN001 - registry.service.SkillPage
    root = e(request.scope.get("root_path", "").rstrip("/"))
    ident = page.ident
    top = page.latest
    fm = page.frontmatter if isinstance(page.frontmatter, dict) else {}
    meta = fm.get("metadata") if isinstance(fm.get("metadata"), dict) else {}

    if top is not None:
        install = f'<pre><code id="install">skillpm add {e(ident)}@^{e(top.vers)}</code></pre>'
        description = top.description or str(fm.get("description", ""))
        deps_line = top
    else:
        install = '<p class="error" id="install">Every version is yanked; nothing to install.</p>'
        description = page.lines[0].description or ""
        deps_line = page.lines[0]

    if deps_line.deps:
        deps = "<ul class=\"deps\">" + "".join(
            (
                f'<li><a href="{root}/skills/{e(key)}">{e(key)}</a> <code>{e(rng)}</code></li>'
                if _is_local_id(key)
                else f"<li>{e(key)} <code>{e(rng)}</code></li>"
            )
            for key, rng in sorted(deps_line.deps.items())
        ) + "</ul>"
    else:
        deps = '<p class="muted">None.</p>'

    rows = []
    for ln in page.lines:
        info = page.meta.get(ln.vers, {})
        when = (info.get("published_at") or "")[:10]
        by = f' by {e(info["publisher"])}' if info.get("publisher") else ""
        mark = '<span class="yanked-mark">yanked</span>' if ln.yanked else ""
        rows.append(
            f'<tr class="{"yanked" if ln.yanked else "live"}" data-version="{e(ln.vers)}">'
            f"<td><code>{e(ln.vers)}</code>{mark}</td><td>{e(when)}{by}</td>"
            f'<td><a href="{root}/dl/{e(ident)}/{e(ln.vers)}.tar.gz" title="{e(ln.cksum)}">.tar.gz</a></td></tr>'
        )

    details = []
    latest_meta = page.meta.get(page.readme_version or "", {})
    keywords = latest_meta.get("keywords") or []
    for label, value in (
        ("License", fm.get("license")),
        ("Compatibility", fm.get("compatibility")),
        ("Allowed tools", fm.get("allowed-tools") if isinstance(fm.get("allowed-tools"), str) else None),
        ("Keywords", ", ".join(keywords) if keywords else None),
        ("Author", meta.get("author") if isinstance(meta.get("author"), str) else None),
        ("Integrity", deps_line.integrity),
    ):
        if value:
            details.append(f"<dt>{e(label)}</dt><dd>{e(value)}</dd>")

    owners = "".join(f"<li>{e(u)}</li>" for u in page.owners) or '<li class="muted">none</li>'
    main = _template("skill.html").substitute(
        root=root,
        ident=e(ident),
        latest=e(top.vers if top else "yanked"),
        description=e(description),
        install=install,
        readme=render_markdown(page.body) or '<p class="muted">(empty)</p>',
        readme_version=e(page.readme_version),
        details="\n".join(details),
        dependencies=deps,
        versions="\n".join(rows),
        owners=owners,
    )
    return _page(request, title=f"{ident} - skillpm registry", main=main)


def _is_local_id(key: str) -> bool:
    from skillpm.spec import ID_RE

    return bool(ID_RE.match(key))


def render_error(request: Request, status: int, message: str) -> HTMLResponse:
    root = e(request.scope.get("root_path", "").rstrip("/"))
    main = _template("error.html").substitute(status=e(status), message=e(message), root=root)
    return _page(request, title=f"{status} - skillpm registry", main=main, status=status)
