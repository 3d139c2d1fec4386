"""SemVer 2.0.0 versions and npm-style version ranges, with exact set algebra.

Pure core: no I/O, stdlib only.

* ``Version`` is a strict SemVer 2.0.0 version (node-semver's strict mode, which
  also accepts one leading ``v``).  Build metadata is kept for display but ignored
  by ``==``, ``<`` and ``hash``.
* ``Range`` is a set of versions written in npm's range grammar, with npm's
  default-mode meaning (what ``semver.satisfies`` does without ``loose`` or
  ``includePrerelease``), plus Cargo's comma as AND (``>=1.0, <2.0``).

How a range text becomes a set
------------------------------
1. Desugaring is a faithful port of node-semver 7.8.5 (``classes/range.js``): it
   rewrites ``^1.2``, ``~1``, ``1.x``, ``1 - 2`` ... into sets of primitive
   comparators (``>=1.2.0 <2.0.0-0``) exactly as node does, quirks included, so
   ``desugar()`` returns node's canonical comparator string.  The regexes keep
   node's token names (``XRANGEPLAIN``, ``COMPARATORTRIM`` ...).
2. The comparator sets become an exact set of versions: a pair of interval unions,
   ``rel`` (the release versions in the set) and ``pre`` (the prerelease versions
   in it).  Releases and prereleases are disjoint, so intersection, union and
   complement work componentwise and are exact.  npm's prerelease rule is applied
   once, while parsing: a comparator set with bounds [lo, hi] gives
   ``rel = [lo, hi]`` and ``pre = [lo, hi] ∩ ⋃ [t-0, t)`` over the
   [major, minor, patch] tuples ``t`` of its comparators that carry a prerelease.
3. Every span is stored as ``[lo, hi)`` with ``lo`` and ``hi`` versions *of its
   kind* (``hi`` may be unbounded), sorted and merged.  This form is unique, so
   equal sets compare equal and ``is_empty()`` is exact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable, NamedTuple

from skillpm.errors import SkillpmError

__all__ = [
    "MAX_SAFE_INTEGER",
    "MAX_VERSION_LENGTH",
    "InvalidRange",
    "InvalidVersion",
    "Range",
    "Version",
    "desugar",
]

MAX_SAFE_INTEGER = 2**53 - 1  # node's Number.MAX_SAFE_INTEGER
MAX_VERSION_LENGTH = 256  # node-semver's MAX_LENGTH


class InvalidVersion(SkillpmError, ValueError):
    """A version string is not strict SemVer 2.0.0."""


class InvalidRange(SkillpmError, ValueError):
    """A range string is not in the accepted npm/Cargo range grammar."""


_RANGE_FORMS = "accepted: ^1.2.3, ~1.2, 1.x, >=1.0.0 <2.0.0, 1.0.0 - 2.0.0, a || b, >=1.0, <2.0"


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --------------------------------------------------------------------------------------
# Regexes, named after node-semver's tokens (internal/re.js, the "safe" variants).
# JavaScript's \s, trim() and \d differ from Python's, so they are spelled out.
# --------------------------------------------------------------------------------------

_WS_CHARS = "\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff"
_WS = f"[{_WS_CHARS}]"  # JavaScript's \s
_OPT_WS = f"{_WS}?"  # node's safe \s* (input is already collapsed to single spaces)
_JS_WHITESPACE = "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_WS_RUN = re.compile(f"{_WS}+")


def _js_trim(text: str) -> str:
    return text.strip(_JS_WHITESPACE)


_NUMERIC_ID = "0|[1-9][0-9]{0,256}"
_NUMERIC_ID_LOOSE = "[0-9]{1,256}"
_NON_NUMERIC_ID = "[0-9]{0,256}[a-zA-Z-][a-zA-Z0-9-]{0,250}"
_MAIN_VERSION = f"({_NUMERIC_ID})\\.({_NUMERIC_ID})\\.({_NUMERIC_ID})"
_MAIN_VERSION_LOOSE = f"({_NUMERIC_ID_LOOSE})\\.({_NUMERIC_ID_LOOSE})\\.({_NUMERIC_ID_LOOSE})"
_PRERELEASE_ID = f"(?:{_NON_NUMERIC_ID}|{_NUMERIC_ID})"
_PRERELEASE_ID_LOOSE = f"(?:{_NON_NUMERIC_ID}|{_NUMERIC_ID_LOOSE})"
_PRERELEASE = f"(?:-({_PRERELEASE_ID}(?:\\.{_PRERELEASE_ID})*))"
_PRERELEASE_LOOSE = f"(?:-?({_PRERELEASE_ID_LOOSE}(?:\\.{_PRERELEASE_ID_LOOSE})*))"
_BUILD_ID = "[a-zA-Z0-9-]{1,250}"
_BUILD = f"(?:\\+({_BUILD_ID}(?:\\.{_BUILD_ID})*))"
_FULL_PLAIN = f"v?{_MAIN_VERSION}{_PRERELEASE}?{_BUILD}?"
_LOOSE_PLAIN = f"[v={_WS_CHARS}]*{_MAIN_VERSION_LOOSE}{_PRERELEASE_LOOSE}?{_BUILD}?"
_GTLT = "((?:<|>)?=?)"
_XRANGE_ID = f"{_NUMERIC_ID}|x|X|\\*"
# "1", "1.2", "1.x", "1.2.3-pre+build": the partial versions of the range grammar.
_XRANGE_PLAIN = (
    f"[v={_WS_CHARS}]*({_XRANGE_ID})"
    f"(?:\\.({_XRANGE_ID})(?:\\.({_XRANGE_ID})(?:{_PRERELEASE})?{_BUILD}?)?)?"
)
_LONE_TILDE = "(?:~>?)"
_LONE_CARET = "(?:\\^)"

# groups: major, minor, patch, prerelease, build
FULL_VERSION = re.compile(f"^{_FULL_PLAIN}\\Z")
# groups: gtlt, major, minor, patch, prerelease, build
XRANGE = re.compile(f"^{_GTLT}{_OPT_WS}{_XRANGE_PLAIN}\\Z")
# groups: major, minor, patch, prerelease, build
TILDE = re.compile(f"^{_LONE_TILDE}{_XRANGE_PLAIN}\\Z")
CARET = re.compile(f"^{_LONE_CARET}{_XRANGE_PLAIN}\\Z")
# groups: gtlt, version
COMPARATOR = re.compile(f"^{_GTLT}{_OPT_WS}({_FULL_PLAIN})\\Z|^\\Z")
# groups: leading space, gtlt, partial version
COMPARATOR_TRIM = re.compile(f"({_OPT_WS}){_GTLT}{_OPT_WS}({_LOOSE_PLAIN}|{_XRANGE_PLAIN})")
TILDE_TRIM = re.compile(f"({_OPT_WS}){_LONE_TILDE}{_WS}")
CARET_TRIM = re.compile(f"({_OPT_WS}){_LONE_CARET}{_WS}")
# groups: from, fM, fm, fp, fpr, fbuild, to, tM, tm, tp, tpr, tbuild
HYPHEN_RANGE = re.compile(f"^{_OPT_WS}({_XRANGE_PLAIN}){_WS}-{_WS}({_XRANGE_PLAIN}){_OPT_WS}\\Z")
STAR = re.compile(f"(<|>)?=?{_OPT_WS}\\*")
GTE0 = re.compile(f"^{_OPT_WS}>={_OPT_WS}0\\.0\\.0{_OPT_WS}\\Z")
BUILD_ANYWHERE = re.compile("\\+([a-zA-Z0-9-]+(?:\\.[a-zA-Z0-9-]+)*)")  # node's BUILDSTRIPRE
_BUILD_ONCE = re.compile(_BUILD)

_IDENTIFIER = re.compile("[0-9A-Za-z-]+\\Z")
_DIGITS = re.compile("[0-9]+\\Z")
_PARTIAL_VERSION = re.compile("v?([0-9]+)(?:\\.([0-9]+))?\\Z")
_LEADING_ZERO = re.compile("v?(?:[0-9]+\\.){0,2}0[0-9]")


# --------------------------------------------------------------------------------------
# Version
# --------------------------------------------------------------------------------------


def _identifier_key(ident: int | str) -> tuple[int, int, str]:
    # SemVer §11.4: numeric identifiers sort numerically and before alphanumeric ones.
    return (0, ident, "") if isinstance(ident, int) else (1, 0, ident)


@dataclass(frozen=True, eq=False, slots=True)
class Version:
    """A SemVer 2.0.0 version; build metadata is ignored by ==, < and hash."""

    major: int
    minor: int
    patch: int
    prerelease: tuple[int | str, ...] = ()
    build: tuple[str, ...] = ()
    _key: tuple = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("major", "minor", "patch"):
            number = getattr(self, name)
            if type(number) is not int or number < 0:
                raise InvalidVersion(f"invalid version: {name} must be a non-negative integer, got {number!r}")
        prerelease = tuple(_prerelease_identifier(ident) for ident in self.prerelease)
        build = tuple(self.build)
        for ident in build:
            if not isinstance(ident, str) or not _IDENTIFIER.match(ident):
                raise InvalidVersion(f"invalid version: build identifier {ident!r} must be [0-9A-Za-z-]+")
        object.__setattr__(self, "prerelease", prerelease)
        object.__setattr__(self, "build", build)
        key = (
            self.major,
            self.minor,
            self.patch,
            0 if prerelease else 1,  # §11.3: a prerelease sorts before its release
            tuple(_identifier_key(ident) for ident in prerelease),
        )
        object.__setattr__(self, "_key", key)

    @classmethod
    def parse(cls, text: str) -> Version:
        """Parse strict SemVer 2.0.0 (plus node's optional leading "v")."""
        if not isinstance(text, str):
            raise InvalidVersion(f"invalid version {text!r}: expected a string like 1.2.3")
        if len(text) > MAX_VERSION_LENGTH:
            raise InvalidVersion(
                f'invalid version "{_clip(text)}": longer than {MAX_VERSION_LENGTH} characters'
            )
        stripped = _js_trim(text)
        match = FULL_VERSION.match(stripped)
        if match is None:
            raise InvalidVersion(f'invalid version "{stripped}": {_why_not_a_version(stripped)}')
        major, minor, patch = (int(match[i]) for i in (1, 2, 3))
        for number in (major, minor, patch):
            if number > MAX_SAFE_INTEGER:
                raise InvalidVersion(
                    f'invalid version "{_clip(stripped)}": {_clip(str(number), 24)} is larger than '
                    f"the largest supported number {MAX_SAFE_INTEGER}"
                )
        prerelease = tuple(match[4].split(".")) if match[4] else ()
        build = tuple(match[5].split(".")) if match[5] else ()
        return cls(major, minor, patch, prerelease, build)

    # ---- ordering (SemVer §11; build metadata ignored) ----

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key == other._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __lt__(self, other: Version) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key < other._key

    def __le__(self, other: Version) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key <= other._key

    def __gt__(self, other: Version) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key > other._key

    def __ge__(self, other: Version) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key >= other._key

    # ---- rendering and helpers ----

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            text += "-" + ".".join(str(ident) for ident in self.prerelease)
        if self.build:
            text += "+" + ".".join(self.build)
        return text

    def __repr__(self) -> str:
        return f"Version({str(self)!r})"

    @property
    def is_prerelease(self) -> bool:
        return bool(self.prerelease)

    @property
    def release_tuple(self) -> tuple[int, int, int]:
        return (self.major, self.minor, self.patch)

    def next_patch(self) -> Version:
        """The release major.minor.(patch+1): the smallest release above this tuple."""
        return Version(self.major, self.minor, self.patch + 1)

    def next_minor(self) -> Version:
        """The release major.(minor+1).0."""
        return Version(self.major, self.minor + 1, 0)

    def next_major(self) -> Version:
        """The release (major+1).0.0."""
        return Version(self.major + 1, 0, 0)


def _prerelease_identifier(ident: object) -> int | str:
    if type(ident) is int and ident >= 0:
        return ident
    if isinstance(ident, str) and _IDENTIFIER.match(ident):
        if not _DIGITS.match(ident):
            return ident
        if ident == "0" or not ident.startswith("0"):
            return int(ident)
        raise InvalidVersion(f"invalid version: prerelease identifier {ident!r} has a leading zero")
    raise InvalidVersion(
        f"invalid version: prerelease identifier {ident!r} must be a non-negative integer "
        "or a non-empty [0-9A-Za-z-] string"
    )


def _why_not_a_version(text: str) -> str:
    partial = _PARTIAL_VERSION.match(text)
    if partial:
        padded = ".".join([partial[1], partial[2] or "0", "0"])
        return f"expected MAJOR.MINOR.PATCH like {padded}"
    if _LEADING_ZERO.match(text):
        return "numbers must not have leading zeros (1.2.3, not 01.02.03)"
    if text[:1] in ("<", ">", "=", "^", "~"):
        return "a version has no operator; operators belong in ranges"
    return "expected MAJOR.MINOR.PATCH with optional -PRERELEASE and +BUILD, like 1.2.3 or 1.2.3-beta.1"


def _release_of(v: Version) -> Version:
    """The release with v's [major, minor, patch]."""
    return v if not v.prerelease and not v.build else Version(v.major, v.minor, v.patch)


def _first_prerelease(v: Version) -> Version:
    """major.minor.patch-0: the smallest prerelease of v's tuple."""
    return Version(v.major, v.minor, v.patch, (0,))


def _successor(v: Version) -> Version:
    """The smallest prerelease above prerelease v: v with a ".0" identifier appended."""
    return Version(v.major, v.minor, v.patch, v.prerelease + (0,))


_REL_FLOOR = Version(0, 0, 0)  # the smallest release
_PRE_FLOOR = Version(0, 0, 0, (0,))  # the smallest prerelease (and smallest version)


# --------------------------------------------------------------------------------------
# Interval unions over one kind of version
# --------------------------------------------------------------------------------------


class _Bound(NamedTuple):
    """A comparator's bound on the version order, before normalization."""

    version: Version
    inclusive: bool


_Span = tuple[Version, "Version | None"]  # [lo, hi); hi None = unbounded


def _release_span(lo: _Bound | None, hi: _Bound | None) -> _Span:
    """The releases within the bounds, as [lo, hi) with release endpoints."""
    if lo is None:
        start = _REL_FLOOR
    elif lo.version.prerelease:
        start = _release_of(lo.version)  # releases >= 1.2.3-x are releases >= 1.2.3
    else:
        start = lo.version if lo.inclusive else lo.version.next_patch()
    if hi is None:
        end = None
    elif hi.version.prerelease:
        end = _release_of(hi.version)  # releases <= 1.2.3-x are releases < 1.2.3
    else:
        end = hi.version.next_patch() if hi.inclusive else hi.version
    return (start, end)


def _prerelease_span(lo: _Bound | None, hi: _Bound | None) -> _Span:
    """The prereleases within the bounds, as [lo, hi) with prerelease endpoints."""
    if lo is None:
        start = _PRE_FLOOR
    elif lo.version.prerelease:
        start = lo.version if lo.inclusive else _successor(lo.version)
    else:
        # prereleases >= 1.2.3 (or > 1.2.3) are prereleases >= 1.2.4-0
        start = _first_prerelease(lo.version.next_patch())
    if hi is None:
        end = None
    elif hi.version.prerelease:
        end = _successor(hi.version) if hi.inclusive else hi.version
    else:
        # prereleases <= 1.2.3 (or < 1.2.3) are prereleases < 1.2.4-0
        end = _first_prerelease(hi.version.next_patch())
    return (start, end)


def _min_end(a: Version | None, b: Version | None) -> Version | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


def _max_end(a: Version | None, b: Version | None) -> Version | None:
    return None if a is None or b is None else max(a, b)


class _IntervalSet:
    """A union of spans [lo, hi) over one kind (releases or prereleases).

    Endpoints are versions of that kind and every lo >= floor (the kind's smallest
    version), so the sorted, merged list of non-empty spans is unique for each set.
    """

    __slots__ = ("floor", "spans")

    def __init__(self, floor: Version, spans: Iterable[_Span] = ()) -> None:
        self.floor = floor
        self.spans: tuple[_Span, ...] = _normalize(spans)

    @classmethod
    def everything(cls, floor: Version) -> _IntervalSet:
        return cls(floor, [(floor, None)])

    def contains(self, v: Version) -> bool:
        key = v._key  # compare sort keys directly: this is the solver's hot path
        for lo, hi in self.spans:
            if key < lo._key:
                return False
            if hi is None or key < hi._key:
                return True
        return False

    def is_empty(self) -> bool:
        return not self.spans

    def is_everything(self) -> bool:
        return self.spans == ((self.floor, None),)

    def intersect(self, other: _IntervalSet) -> _IntervalSet:
        pieces = [
            (max(alo, blo), _min_end(ahi, bhi)) for alo, ahi in self.spans for blo, bhi in other.spans
        ]
        return _IntervalSet(self.floor, pieces)

    def union(self, other: _IntervalSet) -> _IntervalSet:
        return _IntervalSet(self.floor, self.spans + other.spans)

    def complement(self) -> _IntervalSet:
        pieces: list[_Span] = []
        start: Version | None = self.floor
        for lo, hi in self.spans:
            if start < lo:
                pieces.append((start, lo))
            start = hi
            if start is None:
                break
        if start is not None:
            pieces.append((start, None))
        return _IntervalSet(self.floor, pieces)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _IntervalSet):
            return NotImplemented
        return self.floor == other.floor and self.spans == other.spans

    def __hash__(self) -> int:
        return hash((self.floor, self.spans))

    def __repr__(self) -> str:
        inner = ", ".join(f"[{lo}, {'∞' if hi is None else hi})" for lo, hi in self.spans)
        return f"_IntervalSet({inner})"


def _normalize(spans: Iterable[_Span]) -> tuple[_Span, ...]:
    ordered = sorted((s for s in spans if s[1] is None or s[0] < s[1]), key=lambda s: s[0])
    merged: list[_Span] = []
    for lo, hi in ordered:
        if merged and (merged[-1][1] is None or lo <= merged[-1][1]):
            merged[-1] = (merged[-1][0], _max_end(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return tuple(merged)


_ALL_RELEASES = _IntervalSet.everything(_REL_FLOOR)
_ALL_PRERELEASES = _IntervalSet.everything(_PRE_FLOOR)
_NO_RELEASES = _IntervalSet(_REL_FLOOR)
_NO_PRERELEASES = _IntervalSet(_PRE_FLOOR)


# --------------------------------------------------------------------------------------
# npm desugaring: a port of node-semver 7.8.5 classes/range.js (default options)
# --------------------------------------------------------------------------------------


class _Comparator(NamedTuple):
    """A primitive comparator; op is "", "<", "<=", ">" or ">="; version None = any."""

    op: str
    version: Version | None

    @property
    def value(self) -> str:  # node's Comparator.value
        return "" if self.version is None else self.op + str(self.version)

    def bounds(self) -> tuple[_Bound | None, _Bound | None]:
        v = self.version
        assert v is not None
        if self.op == "":
            return _Bound(v, True), _Bound(v, True)
        if self.op[0] == ">":
            return _Bound(v, self.op == ">="), None
        return None, _Bound(v, self.op == "<=")


_NULL_SET = "<0.0.0-0"


def _is_x(ident: str | None) -> bool:
    return not ident or ident.lower() == "x" or ident == "*"


def _replace_caret(comp: str) -> str:
    # ^1.2.3 := >=1.2.3 <2.0.0-0, ^0.2.3 := >=0.2.3 <0.3.0-0, ^0.0.3 := >=0.0.3 <0.0.4-0
    m = CARET.match(comp)
    if m is None:
        return comp
    major, minor, patch, pre = m[1], m[2], m[3], m[4]
    if _is_x(major):
        return ""
    if _is_x(minor):
        return f">={major}.0.0 <{int(major) + 1}.0.0-0"
    if _is_x(patch):
        if major == "0":
            return f">={major}.{minor}.0 <{major}.{int(minor) + 1}.0-0"
        return f">={major}.{minor}.0 <{int(major) + 1}.0.0-0"
    low = f">={major}.{minor}.{patch}" + (f"-{pre}" if pre else "")
    if major == "0":
        if minor == "0":
            return f"{low} <{major}.{minor}.{int(patch) + 1}-0"
        return f"{low} <{major}.{int(minor) + 1}.0-0"
    return f"{low} <{int(major) + 1}.0.0-0"


def _replace_tilde(comp: str) -> str:
    # ~1.2.3 := >=1.2.3 <1.3.0-0, ~1.2 := >=1.2.0 <1.3.0-0, ~1 := >=1.0.0 <2.0.0-0
    m = TILDE.match(comp)
    if m is None:
        return comp
    major, minor, patch, pre = m[1], m[2], m[3], m[4]
    if _is_x(major):
        return ""
    if _is_x(minor):
        return f">={major}.0.0 <{int(major) + 1}.0.0-0"
    if _is_x(patch):
        return f">={major}.{minor}.0 <{major}.{int(minor) + 1}.0-0"
    low = f">={major}.{minor}.{patch}" + (f"-{pre}" if pre else "")
    return f"{low} <{major}.{int(minor) + 1}.0-0"


def _replace_xrange(comp: str) -> str:
    # 1.x := >=1.0.0 <2.0.0-0, >1.2 := >=1.3.0, <=1.2 := <1.3.0-0, >x := <0.0.0-0, * := *
    comp = _js_trim(comp)
    m = XRANGE.match(comp)
    if m is None:
        return comp
    gtlt, major, minor, patch = m[1], m[2], m[3], m[4]
    if (_is_x(major) and not _is_x(minor)) or (_is_x(minor) and patch and not _is_x(patch)):
        return comp  # x.1 or 1.x.1: left for the comparator parser to reject
    x_major = _is_x(major)
    x_minor = x_major or _is_x(minor)
    x_patch = x_minor or _is_x(patch)
    if gtlt == "=" and x_patch:
        gtlt = ""
    if x_major:
        return _NULL_SET if gtlt in (">", "<") else "*"
    if gtlt and x_patch:
        if x_minor:
            minor = "0"
        patch = "0"
        if gtlt == ">":
            gtlt = ">="
            if x_minor:
                major, minor = str(int(major) + 1), "0"
            else:
                minor = str(int(minor) + 1)
        elif gtlt == "<=":
            gtlt = "<"
            if x_minor:
                major = str(int(major) + 1)
            else:
                minor = str(int(minor) + 1)
        pre = "-0" if gtlt == "<" else ""
        return f"{gtlt}{major}.{minor}.{patch}{pre}"
    if x_minor:
        return f">={major}.0.0 <{int(major) + 1}.0.0-0"
    if x_patch:
        return f">={major}.{minor}.0 <{major}.{int(minor) + 1}.0-0"
    return comp


def _hyphen_replace(m: re.Match[str]) -> str:
    # 1.2 - 3.4.5 := >=1.2.0 <=3.4.5, 1.2.3 - 3.4 := >=1.2.3 <3.5.0-0
    low, f_major, f_minor, f_patch = m[1], m[2], m[3], m[4]
    high, t_major, t_minor, t_patch, t_pre = m[7], m[8], m[9], m[10], m[11]
    if _is_x(f_major):
        low = ""
    elif _is_x(f_minor):
        low = f">={f_major}.0.0"
    elif _is_x(f_patch):
        low = f">={f_major}.{f_minor}.0"
    else:
        low = f">={low}"
    if _is_x(t_major):
        high = ""
    elif _is_x(t_minor):
        high = f"<{int(t_major) + 1}.0.0-0"
    elif _is_x(t_patch):
        high = f"<{t_major}.{int(t_minor) + 1}.0-0"
    elif t_pre:
        high = f"<={t_major}.{t_minor}.{t_patch}-{t_pre}"
    else:
        high = f"<={high}"
    return _js_trim(f"{low} {high}")


def _desugar_comparator(comp: str) -> str:
    """node's parseComparator: carets, then tildes, then x-ranges, then stars."""
    comp = _BUILD_ONCE.sub("", comp, count=1)
    comp = " ".join(_replace_caret(c) for c in _WS_RUN.split(_js_trim(comp)))
    comp = " ".join(_replace_tilde(c) for c in _WS_RUN.split(_js_trim(comp)))
    comp = " ".join(_replace_xrange(c) for c in _WS_RUN.split(comp))
    return STAR.sub("", _js_trim(comp), count=1)


def _desugar_conjunction(text: str) -> list[str]:
    """node's parseRange up to the comparator list: one ||-alternative -> comparator texts."""
    text = BUILD_ANYWHERE.sub("", text)
    text = HYPHEN_RANGE.sub(_hyphen_replace, text, count=1)
    text = COMPARATOR_TRIM.sub(lambda m: m[1] + m[2] + m[3], text)
    text = TILDE_TRIM.sub(lambda m: m[1] + "~", text)
    text = CARET_TRIM.sub(lambda m: m[1] + "^", text)
    desugared = " ".join(_desugar_comparator(c) for c in text.split(" "))
    return [GTE0.sub("", _js_trim(c), count=1) for c in _WS_RUN.split(desugared)]


def _parse_comparator(comp: str, fail: _Failer) -> _Comparator:
    m = COMPARATOR.match(comp)
    if m is None:
        raise fail(f'"{_clip(comp, 40)}" is not a version or comparator')
    if not m[2]:
        return _Comparator("", None)
    if len(m[2]) > MAX_VERSION_LENGTH:
        raise fail(f"{_clip(m[2], 40)} is longer than {MAX_VERSION_LENGTH} characters")
    try:
        v = Version.parse(m[2])
    except InvalidVersion:  # the only way left to fail: a number above MAX_SAFE_INTEGER
        raise fail(f"{_clip(m[2], 40)} has a number larger than {MAX_SAFE_INTEGER}") from None
    op = "" if m[1] == "=" else m[1]
    return _Comparator(op, Version(v.major, v.minor, v.patch, v.prerelease))


class _Failer:
    def __init__(self, text: str) -> None:
        self.text = text

    def __call__(self, reason: str) -> InvalidRange:
        return InvalidRange(f'invalid range "{_clip(self.text)}": {reason}', hint=_RANGE_FORMS)


def _comparator_sets(text: str) -> tuple[tuple[_Comparator, ...], ...]:
    """node's Range constructor: text -> OR of AND-sets of comparators (after node's cleanup)."""
    fail = _Failer(text)
    raw = _WS_RUN.sub(" ", _js_trim(text))
    sets: list[tuple[_Comparator, ...]] = []
    for alternative in raw.split("||"):
        alternative = _js_trim(alternative)
        pieces = [alternative]
        if "," in alternative:  # Cargo: a comma is AND, like the space between comparators
            pieces = [_js_trim(piece) for piece in alternative.split(",")]
            if not all(pieces):
                raise fail('"," must separate two comparators, as in ">=1.0, <2.0"')
        texts = [comp for piece in pieces for comp in _desugar_conjunction(piece)]
        comparators = [_parse_comparator(comp, fail) for comp in texts]
        null = next((c for c in comparators if c.value == _NULL_SET), None)
        if null is not None:
            sets.append((null,))
            continue
        unique = {c.value: c for c in comparators}  # keeps first position, like a JS Map
        if len(unique) > 1:
            unique.pop("", None)
        sets.append(tuple(unique.values()))
    if len(sets) > 1:
        kept = [s for s in sets if s[0].value != _NULL_SET] or sets[:1]
        star = next((s for s in kept if len(s) == 1 and s[0].version is None), None)
        sets = [star] if star is not None and len(kept) > 1 else kept
    return tuple(sets)


def _format_sets(sets: tuple[tuple[_Comparator, ...], ...]) -> str:
    return "||".join(" ".join(c.value for c in s) for s in sets) or "*"


def _conjunction_to_sets(comparators: tuple[_Comparator, ...]) -> tuple[_IntervalSet, _IntervalSet]:
    """npm's testSet as a set: bounds for releases; bounds ∩ named tuples for prereleases."""
    rel, pre = _ALL_RELEASES, _ALL_PRERELEASES
    tuples: list[_Span] = []
    for comparator in comparators:
        if comparator.version is None:
            continue
        lo, hi = comparator.bounds()
        rel = rel.intersect(_IntervalSet(_REL_FLOOR, [_release_span(lo, hi)]))
        pre = pre.intersect(_IntervalSet(_PRE_FLOOR, [_prerelease_span(lo, hi)]))
        v = comparator.version
        if v.prerelease:  # its tuple's prereleases: [t-0, t), i.e. [t-0, next_patch(t)-0)
            tuples.append((_first_prerelease(v), _first_prerelease(v.next_patch())))
    return rel, pre.intersect(_IntervalSet(_PRE_FLOOR, tuples))


@lru_cache(maxsize=1024)
def _parse(text: str) -> tuple[str, _IntervalSet, _IntervalSet]:
    sets = _comparator_sets(text)
    rel, pre = _NO_RELEASES, _NO_PRERELEASES
    for comparators in sets:
        r, p = _conjunction_to_sets(comparators)
        rel, pre = rel.union(r), pre.union(p)
    return _format_sets(sets), rel, pre


def desugar(text: str) -> str:
    """node-semver's canonical comparator string for a range (``*`` for any release).

    >>> desugar("^1.2")
    '>=1.2.0 <2.0.0-0'
    """
    return Range.parse(text).to_comparator_string()


# --------------------------------------------------------------------------------------
# Range
# --------------------------------------------------------------------------------------


class Range:
    """A set of versions.  Parse npm/Cargo range text, or build one with set algebra.

    The set is ``{release v in rel} ∪ {prerelease v in pre}``; all operations are exact.
    """

    __slots__ = ("_rel", "_pre", "_text", "_comparators")

    def __init__(
        self,
        rel: _IntervalSet,
        pre: _IntervalSet,
        *,
        text: str | None = None,
        comparators: str | None = None,
    ) -> None:
        self._rel = rel
        self._pre = pre
        self._text = text
        self._comparators = comparators

    # ---- construction ----

    @classmethod
    def parse(cls, text: str) -> Range:
        """Parse npm range syntax (default mode) with Cargo's comma as AND."""
        if not isinstance(text, str):
            raise InvalidRange(f"invalid range {text!r}: expected a string like ^1.2.3", hint=_RANGE_FORMS)
        comparators, rel, pre = _parse(text)
        shown = _WS_RUN.sub(" ", _js_trim(text)) or "*"
        return cls(rel, pre, text=shown, comparators=comparators)

    @classmethod
    def any(cls) -> Range:
        """Every version, releases and prereleases (unlike ``Range.parse("*")``)."""
        return cls(_ALL_RELEASES, _ALL_PRERELEASES)

    @classmethod
    def empty(cls) -> Range:
        return cls(_NO_RELEASES, _NO_PRERELEASES)

    @classmethod
    def exact(cls, v: Version) -> Range:
        """Exactly v (its build metadata is ignored)."""
        if v.prerelease:
            bare = Version(v.major, v.minor, v.patch, v.prerelease)
            return cls(_NO_RELEASES, _IntervalSet(_PRE_FLOOR, [(bare, _successor(bare))]))
        bare = _release_of(v)
        return cls(_IntervalSet(_REL_FLOOR, [(bare, bare.next_patch())]), _NO_PRERELEASES)

    # ---- queries ----

    def allows(self, v: Version) -> bool:
        return self._pre.contains(v) if v.prerelease else self._rel.contains(v)

    def __contains__(self, v: object) -> bool:
        return isinstance(v, Version) and self.allows(v)

    def is_empty(self) -> bool:
        return self._rel.is_empty() and self._pre.is_empty()

    def is_any(self) -> bool:
        return self._rel.is_everything() and self._pre.is_everything()

    def allows_all(self, other: Range) -> bool:
        """other ⊆ self."""
        return other.difference(self).is_empty()

    def allows_any(self, other: Range) -> bool:
        """other ∩ self is not empty."""
        return not self.intersect(other).is_empty()

    # ---- set algebra (results equal to an operand return that operand, keeping its text) ----

    def intersect(self, other: Range) -> Range:
        return self._pick(Range(self._rel.intersect(other._rel), self._pre.intersect(other._pre)), other)

    def union(self, other: Range) -> Range:
        return self._pick(Range(self._rel.union(other._rel), self._pre.union(other._pre)), other)

    def complement(self) -> Range:
        return Range(self._rel.complement(), self._pre.complement())

    def difference(self, other: Range) -> Range:
        return self._pick(self.intersect(other.complement()), self)

    def _pick(self, result: Range, other: Range) -> Range:
        if result == self:
            return self
        if result == other:
            return other
        return result

    # ---- identity ----

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Range):
            return NotImplemented
        return self._rel == other._rel and self._pre == other._pre

    def __hash__(self) -> int:
        return hash((self._rel, self._pre))

    # ---- rendering ----

    def __str__(self) -> str:
        if self._text is not None:
            return self._text
        if self.is_any():
            return "any"
        if self.is_empty():
            return "<empty>"
        parts = [_render_release_span(lo, hi) for lo, hi in self._rel.spans]
        parts += [_render_prerelease_span(lo, hi)[0] for lo, hi in self._pre.spans]
        return " || ".join(parts)

    def __repr__(self) -> str:
        if self._text is not None:
            return f"Range.parse({self._text!r})"
        return f"<Range {self}>"

    def to_comparator_string(self) -> str:
        """npm comparator syntax for this set.

        For a parsed range this is node-semver's canonical desugaring (``*`` when node's
        would be empty).  For a computed range it is an equivalent npm range when npm can
        express the set; otherwise ValueError (npm cannot say "every prerelease of 1.x").
        """
        if self._comparators is not None:
            return self._comparators
        if self.is_empty():
            return _NULL_SET
        parts = [_render_release_span(lo, hi) for lo, hi in self._rel.spans]
        for lo, hi in self._pre.spans:
            text, npm_expressible = _render_prerelease_span(lo, hi)
            if not npm_expressible:
                raise ValueError(f"npm range syntax cannot express {self}")
            parts.append(text)
        if self._rel.is_everything() and self._pre.spans:
            # node reads "* || x" as "*", dropping x
            raise ValueError(f"npm range syntax cannot express {self}")
        return "||".join(parts)


def _render_release_span(lo: Version, hi: Version | None) -> str:
    if hi is not None and hi == lo.next_patch():
        return str(lo)
    words = []
    if lo != _REL_FLOOR:
        words.append(f">={lo}")
    if hi is not None:
        words.append(f"<{hi}")
    return " ".join(words) or "*"


def _render_prerelease_span(lo: Version, hi: Version | None) -> tuple[str, bool]:
    """Render [lo, hi) of prereleases; also say whether npm would read it back exactly.

    Prereleases of a single tuple t render as npm does it (``>=1.0.0-beta <1.0.0``):
    npm only admits prereleases of tuples its comparators name.  Spans across tuples
    render with a "prerelease" prefix and cannot be written in npm syntax.
    """
    if hi is not None and hi == _successor(lo):
        return str(lo), True
    lower = f">{_drop_last(lo)}" if _ends_with_zero(lo) else f">={lo}"
    tuple_end = _first_prerelease(lo.next_patch())
    if hi is not None and hi <= tuple_end:
        if hi == tuple_end:
            upper = f"<{_release_of(lo)}"
        else:
            upper = f"<={_drop_last(hi)}" if _ends_with_zero(hi) else f"<{hi}"
        return f"{lower} {upper}", True
    words = [] if lo == _PRE_FLOOR else [lower]
    if hi is not None:
        words.append(f"<={_drop_last(hi)}" if _ends_with_zero(hi) else f"<{hi}")
    return ("prerelease " + " ".join(words)) if words else "any prerelease", False


def _ends_with_zero(v: Version) -> bool:
    return len(v.prerelease) > 1 and v.prerelease[-1] == 0


def _drop_last(v: Version) -> Version:
    return Version(v.major, v.minor, v.patch, v.prerelease[:-1])
