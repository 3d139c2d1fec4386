"""Explaining a failure from the derivation graph, pub style.

The incompatibility that ends conflict resolution ("the root can't be
selected") is the root of a binary graph: every derived incompatibility points
at the two it was resolved from, the leaves are external facts. The report is
a depth-first walk of that graph that writes one sentence per derived
incompatibility ("Because A and B, C."), skipping sentences that add nothing
and numbering a conclusion — "(1)" — only when a later sentence must refer
back to it because the graph is not a simple chain.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Hashable

from .dependencies import same_range
from .incompatibility import (
    ROOT,
    ConflictCause,
    DependencyCause,
    EmptyDependencyCause,
    Incompatibility,
    NotFoundCause,
    NoVersionsCause,
    SelfDependencyCause,
)
from .term import Term

if TYPE_CHECKING:
    from skillpm.semver import Range, Version

    from .provider import PackageLister


def explain(incompatibility: Incompatibility, root_name: str, lister: PackageLister | None = None) -> str:
    """The pub-style explanation of why `incompatibility` (a failure) holds."""
    return _Writer(root_name, lister).write(incompatibility)


class Describer:
    """Renders terms and incompatibilities as English."""

    def __init__(self, root_name: str, lister: PackageLister | None) -> None:
        self.root_name = root_name
        self.lister = lister

    # -- terms ----------------------------------------------------------------

    def _known(self, package: Hashable) -> list[Version]:
        if self.lister is None or not isinstance(package, str):
            return []
        return self.lister.known_versions(package)

    def is_every(self, package: Hashable, rng: Range) -> bool:
        """True when the range covers every version worth naming: all of them,
        or every release plus every prerelease the package actually has."""
        if rng.is_any():
            return True
        from skillpm.semver import Range

        if not rng.allows_all(Range.parse("*")):
            return False
        return all(rng.allows(v) for v in self._known(package))

    def single(self, package: Hashable, rng: Range) -> Version | None:
        """The version, when the range allows exactly one."""
        from skillpm.semver import Range

        inside = [v for v in self._known(package) if rng.allows(v)]
        if len(inside) == 1 and Range.exact(inside[0]).allows_all(rng):
            return inside[0]
        return None

    def range_text(self, package: Hashable, rng: Range) -> str:
        if self.is_every(package, rng):
            return "any version"
        v = self.single(package, rng)
        return str(v) if v is not None else str(rng)

    def shown_range(self, package: Hashable, rng: Range, simplify: bool = True) -> str | None:
        """How to write a term's version set; None means "every version".

        Ranges people wrote, and the ranges the solver builds for runs of
        versions, print as they are. A range computed by conflict resolution
        (a union, a complement) can be long ("<1.0.0 || >=2.0.0 || any
        prerelease"); when it picks out a contiguous run of the package's
        published versions, it is written as that run instead (">=2.0.0"),
        which says the same thing about every version that exists.
        """
        if self.is_every(package, rng):
            return None
        v = self.single(package, rng)
        if v is not None:
            return str(v)
        text = str(rng)
        if not simplify or ("||" not in text and "prerelease" not in text):
            return text
        known = self._known(package)
        inside = [i for i, v in enumerate(known) if rng.allows(v)]
        if not inside or inside != list(range(inside[0], inside[-1] + 1)):
            return text
        lo, hi = inside[0], inside[-1]
        bounds = []
        if lo > 0:
            bounds.append(f">={known[lo]}")
        if hi < len(known) - 1:
            bounds.append(f"<{known[hi + 1]}")
        return " ".join(bounds) or None

    def terse(self, term: Term, every: bool = False, *, as_written: bool = False) -> str:
        """The package and its version set, without the sign ("foo ^1.0.0").

        as_written: the range is a requirement someone declared; print it as
        declared rather than as the run of versions it selects."""
        package = term.package
        if package is ROOT:
            return self.root_name
        shown = self.shown_range(package, term.range, simplify=not as_written)
        if shown is None:
            return f"every version of {package}" if every else str(package)
        return f"{package} {shown}"

    # -- incompatibilities -------------------------------------------------------

    def describe(self, incompatibility: Incompatibility) -> str:
        cause = incompatibility.cause
        terms = incompatibility.terms
        if isinstance(cause, DependencyCause) and len(terms) == 2:
            return f"{self.terse(terms[0], every=True)} depends on {self.terse(terms[1], as_written=True)}"
        if isinstance(cause, NoVersionsCause):
            term = terms[0]
            if self.is_every(term.package, term.range):
                text = f"no versions of {term.package} are available"
            else:
                text = f"no versions of {term.package} match {self.range_text(term.package, term.range)}"
            return text + self.yanked_note(cause)
        if isinstance(cause, NotFoundCause):
            return f"{terms[0].package} doesn't exist"
        if isinstance(cause, EmptyDependencyCause):
            return (
                f"{self.terse(terms[0], every=True)} depends on {cause.dependee} {cause.range} "
                "(a range no version can match)"
            )
        if isinstance(cause, SelfDependencyCause):
            term = terms[0]
            return f"{self.terse(term)} depends on {term.package} {cause.range}"
        return self._describe_terms(incompatibility)

    def yanked_note(self, cause: NoVersionsCause) -> str:
        if not cause.yanked:
            return ""
        names = [str(v) for v in cause.yanked]
        if len(names) == 1:
            return f" ({names[0]} is yanked)"
        return f" ({', '.join(names[:-1])} and {names[-1]} are yanked)"

    def _describe_terms(self, incompatibility: Incompatibility) -> str:
        if incompatibility.is_failure():
            return "version solving failed"
        terms = incompatibility.terms
        if len(terms) == 1:
            term = terms[0]
            return f"{self.terse(term)} is {'forbidden' if term.positive else 'required'}"
        positive = [t for t in terms if t.positive]
        negative = [t for t in terms if not t.positive]
        if len(terms) == 2:
            if len(positive) == 2:
                return f"{self.terse(positive[0])} is incompatible with {self.terse(positive[1])}"
            if len(negative) == 2:
                return f"either {self.terse(negative[0])} or {self.terse(negative[1])}"
        if positive and negative:
            wanted = " or ".join(self.terse(t) for t in negative)
            if len(positive) == 1:
                return f"{self.terse(positive[0], every=True)} requires {wanted}"
            return f"if {' and '.join(self.terse(t) for t in positive)} then {wanted}"
        if positive:
            return f"one of {' or '.join(self.terse(t) for t in positive)} must be false"
        return f"one of {' or '.join(self.terse(t) for t in negative)} must be true"

    # -- two incompatibilities at once ------------------------------------------

    def both(self, a: Incompatibility, b: Incompatibility, a_line: int | None = None, b_line: int | None = None) -> str:
        """"A and B", merged into one clause when they chain or share a subject."""
        return (
            self._requires_both(a, b, a_line, b_line)
            or self._requires_through(a, b, a_line, b_line)
            or self._requires_through(b, a, b_line, a_line)
            or self._requires_forbidden(a, b, a_line, b_line)
            or self._requires_forbidden(b, a, b_line, a_line)
            or self._plain_and(a, b, a_line, b_line)
        )

    def _plain_and(self, a, b, a_line, b_line) -> str:
        # Say what was asked for before what is missing.
        if _is_availability(a) and not _is_availability(b):
            a, b, a_line, b_line = b, a, b_line, a_line
        return f"{self.describe(a)}{_ref(a_line)} and {self.describe(b)}{_ref(b_line)}"

    @staticmethod
    def _implication(incompatibility: Incompatibility) -> tuple[Term, Term] | None:
        """(p, q) for an incompatibility {p, not q}: "p requires q"."""
        terms = incompatibility.terms
        if len(terms) != 2 or terms[0].positive == terms[1].positive:
            return None
        return (terms[0], terms[1]) if terms[0].positive else (terms[1], terms[0])

    def _wanted(self, incompatibility: Incompatibility, term: Term) -> str:
        """The required side of an implication, as declared when it is a dependency."""
        return self.terse(term, as_written=isinstance(incompatibility.cause, DependencyCause))

    @staticmethod
    def _verb(incompatibility: Incompatibility) -> str:
        return "depends on" if isinstance(incompatibility.cause, DependencyCause) else "requires"

    def _requires_both(self, a, b, a_line, b_line) -> str | None:
        ia, ib = self._implication(a), self._implication(b)
        if ia is None or ib is None:
            return None
        if ia[0].package != ib[0].package or not same_range(ia[0].range, ib[0].range):
            return None
        verb = "depends on" if self._verb(a) == self._verb(b) == "depends on" else "requires"
        return (
            f"{self.terse(ia[0], every=True)} {verb} both "
            f"{self._wanted(a, ia[1])}{_ref(a_line)} and {self._wanted(b, ib[1])}{_ref(b_line)}"
        )

    def _requires_through(self, prior, latter, prior_line, latter_line) -> str | None:
        ip, il = self._implication(prior), self._implication(latter)
        if ip is None or il is None:
            return None
        needed, provider = ip[1], il[0]
        if needed.package != provider.package or not provider.range.allows_all(needed.range):
            return None
        return (
            f"{self.terse(ip[0], every=True)} {self._verb(prior)} {self._wanted(prior, needed)}{_ref(prior_line)} "
            f"which {self._verb(latter)} {self._wanted(latter, il[1])}{_ref(latter_line)}"
        )

    def _requires_forbidden(self, prior, latter, prior_line, latter_line) -> str | None:
        ip = self._implication(prior)
        if ip is None or len(latter.terms) != 1 or not latter.terms[0].positive:
            return None
        forbidden = latter.terms[0]
        if forbidden.package != ip[1].package or not forbidden.range.allows_all(ip[1].range):
            return None
        cause = latter.cause
        if isinstance(cause, NotFoundCause):
            what = "doesn't exist"
        elif isinstance(cause, ConflictCause):
            what = "is forbidden"  # explained by the lines before
        else:
            # Other external facts ("no versions of foo match ^2.0.0") say
            # more as their own clause.
            return None
        return (
            f"{self.terse(ip[0], every=True)} {self._verb(prior)} {self._wanted(prior, ip[1])}{_ref(prior_line)} "
            f"which {what}{_ref(latter_line)}"
        )


def _is_availability(incompatibility: Incompatibility) -> bool:
    return isinstance(incompatibility.cause, (NoVersionsCause, NotFoundCause, EmptyDependencyCause))


def _ref(line: int | None) -> str:
    return f" ({line})" if line is not None else ""


class _Writer:
    """The error reporting walk of pub's solver.md, over our incompatibilities."""

    def __init__(self, root_name: str, lister: PackageLister | None) -> None:
        self.text = Describer(root_name, lister)
        self.lines: list[tuple[str, int | None]] = []
        self.numbers: dict[Incompatibility, int] = {}
        self.uses: dict[Incompatibility, int] = {}
        self.root: Incompatibility | None = None

    def write(self, root: Incompatibility) -> str:
        self.root = root
        self._count(root)
        if not isinstance(root.cause, ConflictCause):
            return f"Because {self.text.describe(root)}, version solving failed."
        self._visit(root)
        return self._format()

    def _count(self, incompatibility: Incompatibility) -> None:
        """How many derived incompatibilities each one causes."""
        stack = [incompatibility]
        while stack:
            current = stack.pop()
            if current in self.uses:
                self.uses[current] += 1
                continue
            self.uses[current] = 1
            cause = current.cause
            if isinstance(cause, ConflictCause):
                stack.append(cause.other)
                stack.append(cause.conflict)

    def _emit(self, incompatibility: Incompatibility, message: str, numbered: bool) -> None:
        if numbered:
            number = len(self.numbers) + 1
            self.numbers[incompatibility] = number
            self.lines.append((message, number))
        else:
            self.lines.append((message, None))

    @staticmethod
    def _derived(incompatibility: Incompatibility) -> bool:
        return isinstance(incompatibility.cause, ConflictCause)

    def _single_line(self, incompatibility: Incompatibility) -> bool:
        """Derived straight from two external facts: one sentence says it all."""
        cause = incompatibility.cause
        return isinstance(cause, ConflictCause) and not self._derived(cause.conflict) and not self._derived(cause.other)

    def _collapsible(self, incompatibility: Incompatibility) -> bool:
        """Derived from exactly one derived cause that needs no line number."""
        if self.uses.get(incompatibility, 0) > 1:
            return False
        cause = incompatibility.cause
        assert isinstance(cause, ConflictCause)
        a, b = self._derived(cause.conflict), self._derived(cause.other)
        if a == b:
            return False
        inner = cause.conflict if a else cause.other
        return inner not in self.numbers

    def _visit(self, incompatibility: Incompatibility, conclusion: bool = False) -> None:
        numbered = conclusion or self.uses.get(incompatibility, 0) > 1
        conjunction = "So," if conclusion or incompatibility is self.root else "And"
        text = self.text.describe(incompatibility)
        cause = incompatibility.cause
        assert isinstance(cause, ConflictCause)
        first, second = cause.conflict, cause.other
        say = self.text

        if self._derived(first) and self._derived(second):
            first_line, second_line = self.numbers.get(first), self.numbers.get(second)
            if first_line is not None and second_line is not None:
                self._emit(incompatibility, f"Because {say.both(first, second, first_line, second_line)}, {text}.", numbered)
            elif first_line is not None or second_line is not None:
                with_line = first if first_line is not None else second
                without_line = second if first_line is not None else first
                self._visit(without_line)
                self._emit(
                    incompatibility,
                    f"{conjunction} because {say.describe(with_line)} ({self.numbers[with_line]}), {text}.",
                    numbered,
                )
            elif self._single_line(first) or self._single_line(second):
                simple = second if self._single_line(second) else first
                complex_ = first if simple is second else second
                self._visit(complex_)
                self._visit(simple)
                self._emit(incompatibility, f"Thus, {text}.", numbered)
            else:
                self._visit(first, conclusion=True)
                self.lines.append(("", None))
                self._visit(second)
                self._emit(
                    incompatibility,
                    f"{conjunction} because {say.describe(first)} ({self.numbers[first]}), {text}.",
                    numbered,
                )
        elif self._derived(first) or self._derived(second):
            derived = first if self._derived(first) else second
            external = second if derived is first else first
            line = self.numbers.get(derived)
            if line is not None:
                self._emit(incompatibility, f"Because {say.both(external, derived, None, line)}, {text}.", numbered)
            elif self._collapsible(derived):
                inner = derived.cause
                assert isinstance(inner, ConflictCause)
                prior_derived = inner.conflict if self._derived(inner.conflict) else inner.other
                prior_external = inner.other if prior_derived is inner.conflict else inner.conflict
                self._visit(prior_derived)
                self._emit(
                    incompatibility,
                    f"{conjunction} because {say.both(prior_external, external)}, {text}.",
                    numbered,
                )
            else:
                self._visit(derived)
                self._emit(incompatibility, f"{conjunction} because {say.describe(external)}, {text}.", numbered)
        else:
            self._emit(incompatibility, f"Because {say.both(first, second)}, {text}.", numbered)

    def _format(self) -> str:
        width = len(f"({max(self.numbers.values())}) ") if self.numbers else 0
        out: list[str] = []
        for message, number in self.lines:
            if not message:
                if out and out[-1] != "":
                    out.append("")
                continue
            prefix = f"({number})".ljust(width) if number is not None else " " * width
            out.append(prefix + message)
        while out and out[-1] == "":
            out.pop()
        return "\n".join(out)
