"""What every exercise checker shares: blanks, verdicts and the comparisons that produce them.

A checker derives the expected answer with ``nncost`` (never from a stored answer), compares it with the
student's, and returns a :class:`Verdict` whose text is what the notebook shows:

- ``✓ Exercise 3.2: correct (26)``
- ``✗ Exercise 3.2: expected 26, got 21.`` plus a hint naming the chapter section to reread;
- ``… Exercise 3.2: not answered yet`` for a blank: the ``...`` placeholder, or a function whose body still
  raises ``NotImplementedError``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["correct", "wrong", "blank"]

MARKS: dict[str, str] = {"correct": "✓", "wrong": "✗", "blank": "…"}


@dataclass(frozen=True)
class Verdict:
    """The outcome of one check; ``bool(verdict)`` is true only when the answer is correct."""

    exercise: str
    status: Status
    detail: str = ""
    hint: str = ""
    cases: tuple[str, ...] = field(default=())

    def __bool__(self) -> bool:
        return self.status == "correct"

    @property
    def message(self) -> str:
        """The text a student sees (one line, then indented case lines and the hint)."""
        head = {
            "correct": f"{MARKS['correct']} Exercise {self.exercise}: correct",
            "wrong": f"{MARKS['wrong']} Exercise {self.exercise}: not yet right",
            "blank": f"{MARKS['blank']} Exercise {self.exercise}: not answered yet",
        }[self.status]
        lines = [f"{head}{' — ' + self.detail if self.detail else ''}"]
        lines += [f"    {case}" for case in self.cases]
        if self.hint and self.status == "wrong":
            lines.append(f"    Hint: {self.hint}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return self.message


_LATEST: dict[str, Verdict] = {}


def _record(verdict: Verdict) -> Verdict:
    """Remember the latest verdict of each exercise for :func:`scoreboard`."""
    _LATEST[verdict.exercise] = verdict
    return verdict


@dataclass(frozen=True)
class Scoreboard:
    """How the exercises checked in this session stand: correct, not yet right, not answered."""

    verdicts: tuple[Verdict, ...]

    def count(self, status: Status) -> int:
        return sum(v.status == status for v in self.verdicts)

    def __repr__(self) -> str:
        if not self.verdicts:
            return "No exercise checked yet in this session."
        lines = [f"{self.count('correct')} of {len(self.verdicts)} exercises correct"]
        for status, label in (("wrong", "not yet right"), ("blank", "not answered yet")):
            names = [v.exercise for v in self.verdicts if v.status == status]
            if names:
                lines.append(f"    {MARKS[status]} {label}: {', '.join(names)}")
        return "\n".join(lines)


def _key(exercise: str) -> tuple[int | str, ...]:
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"[.]", exercise))


def scoreboard(prefix: str = "") -> Scoreboard:
    """The latest verdict of every exercise checked in this kernel whose number starts with ``prefix``."""
    chosen = [v for name, v in _LATEST.items() if name.startswith(prefix)]
    return Scoreboard(tuple(sorted(chosen, key=lambda v: _key(v.exercise))))


def reread(chapter: int, title: str, section: str, *, also: tuple[int, str, str] | None = None,
           advice: str = "") -> str:
    """A hint: "Reread chapter 3 (title), section 'X'[, and chapter 5 (title), section 'Y'][: advice]."

    ``also`` is a second ``(chapter, title, section)``; the ``$`` of inline math in headings is dropped."""
    text = f"Reread chapter {chapter} ({title}), section '{section.replace('$', '')}'"
    if also is not None:
        other, other_title, other_section = also
        where = "" if other == chapter else f"chapter {other} ({other_title}), "
        text += f", and {where}section '{other_section.replace('$', '')}'"
    return f"{text}: {advice}." if advice else f"{text}."


def is_blank(value: Any) -> bool:
    """True for the placeholder ``...`` a student version holds before it is answered."""
    return value is Ellipsis


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.6g}"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, tuple | list):
        inner = ", ".join(_fmt(v) for v in value)
        return f"({inner}{',' if len(value) == 1 else ''})" if isinstance(value, tuple) else f"[{inner}]"
    return repr(value)


def _number(value: Any) -> float | None:
    """``value`` as a float if it is a real number (int, float, numpy or torch scalar), else ``None``."""
    if isinstance(value, bool) or isinstance(value, str):
        return None
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 0) == 0:
        value = value.item()
    if isinstance(value, int | float):
        return float(value)
    return None


def same(expected: Any, got: Any, rel_tol: float = 0.0) -> bool:
    """Equality for answers: numbers within ``rel_tol`` (exact when 0), sequences elementwise, strings ignoring case."""
    if isinstance(expected, str):
        return isinstance(got, str) and got.strip().lower() == expected.strip().lower()
    if isinstance(expected, bool):
        return isinstance(got, bool) and got == expected
    if isinstance(expected, int | float):
        number = _number(got)
        if number is None or math.isnan(number):
            return False
        if rel_tol == 0.0:
            return number == expected
        return math.isclose(number, expected, rel_tol=rel_tol, abs_tol=0.0 if expected else 1e-12)
    if isinstance(expected, Sequence):
        if isinstance(got, str) or not isinstance(got, Sequence) or len(got) != len(expected):
            return False
        return all(same(e, g, rel_tol) for e, g in zip(expected, got, strict=True))
    return bool(expected == got)


def _kind_error(expected: Any, got: Any) -> str | None:
    """A sentence when ``got`` is the wrong kind of answer (text for a number, a number for a shape...)."""
    if got is None:
        return "got None: did the cell (or your function) forget to assign or `return` the answer?"
    if isinstance(expected, int | float) and not isinstance(expected, bool) and _number(got) is None:
        return f"expected a number, got {type(got).__name__} {_fmt(got)}"
    if isinstance(expected, tuple | list) and not isinstance(got, tuple | list):
        return f"expected a sequence of {len(expected)} numbers like {_fmt(tuple(0 for _ in expected))}, " \
               f"got {type(got).__name__} {_fmt(got)}"
    if isinstance(expected, str) and not isinstance(got, str):
        return f"expected text (one of the options), got {type(got).__name__} {_fmt(got)}"
    return None


def check_value(exercise: str, got: Any, expected: Any, *, hint: str, rel_tol: float = 0.0, unit: str = "") -> Verdict:
    """Compare one answer with the expected value; ``rel_tol`` for estimates (e.g. 0.01 = within 1 %)."""
    if is_blank(got):
        return _record(Verdict(exercise, "blank", "replace the `...` with your answer"))
    suffix = f" {unit}" if unit else ""
    if same(expected, got, rel_tol):
        number = _number(got)
        shown = got if number is None else int(number) if number.is_integer() and isinstance(expected, int) else number
        return _record(Verdict(exercise, "correct", f"{_fmt(shown)}{suffix}"))
    tolerance = f" (within {rel_tol * 100:.3g}%)" if rel_tol else ""
    reason = _kind_error(expected, got) or f"expected {_fmt(expected)}{suffix}{tolerance}, got {_fmt(got)}{suffix}"
    return _record(Verdict(exercise, "wrong", reason, hint))


def check_values(exercise: str, got: Mapping[str, Any], expected: Mapping[str, Any], *, hint: str,
                 rel_tol: float = 0.0) -> Verdict:
    """Several named answers checked together (e.g. ``{"params": ..., "macs": ...}``); blank if all are blank."""
    return check_answers(exercise, got, lambda: {name: (want, rel_tol) for name, want in expected.items()},
                         hint=hint)


Expected = Mapping[str, tuple[Any, float]]


def check_answers(exercise: str, got: Mapping[str, Any], derive: Callable[[], Expected], *, hint: str) -> Verdict:
    """Several named answers, each with its own tolerance: ``derive()`` returns ``{name: (expected, rel_tol)}``
    (``rel_tol`` 0 = exact). ``derive`` is not called while every answer is blank, so a derivation that profiles a
    whole network costs nothing in a student notebook full of blanks."""
    if all(is_blank(value) for value in got.values()):
        return _record(Verdict(exercise, "blank", "replace the `...` with your answers"))
    cases, ok = [], True
    for name, (want, rel_tol) in derive().items():
        value = got.get(name, ...)
        if is_blank(value):
            cases.append(f"{MARKS['blank']} {name}: not answered yet")
            ok = False
        elif same(want, value, rel_tol):
            cases.append(f"{MARKS['correct']} {name} = {_fmt(value)}")
        else:
            within = f" (within {rel_tol * 100:.3g}%)" if rel_tol else ""
            reason = _kind_error(want, value) or f"expected {_fmt(want)}{within}, got {_fmt(value)}"
            cases.append(f"{MARKS['wrong']} {name}: {reason}")
            ok = False
    return _record(Verdict(exercise, "correct" if ok else "wrong", "", hint, tuple(cases)))


def check_choice(exercise: str, got: Any, expected: str, options: Mapping[str, str], *, hint: str) -> Verdict:
    """A multiple-choice answer: ``got`` must be one of the option letters; the verdict names the option."""
    if is_blank(got):
        return _record(Verdict(exercise, "blank", f"set the answer to one of {', '.join(map(repr, options))}"))
    key = got.strip().lower() if isinstance(got, str) else got
    if key not in options:
        listed = ", ".join(map(repr, options))
        return _record(Verdict(exercise, "wrong", f"{_fmt(got)} is not one of the options {listed}", hint))
    if key == expected:
        return _record(Verdict(exercise, "correct", f"({key}) {options[key]}"))
    reason = f"expected ({expected}) {options[expected]}, got ({key}) {options[key]}"
    return _record(Verdict(exercise, "wrong", reason, hint))


Case = tuple[tuple[Any, ...], Mapping[str, Any], Any]


def check_function(exercise: str, function: Callable[..., Any], cases: Iterable[Case], *, hint: str,
                   rel_tol: float = 0.0, show: int = 3) -> Verdict:
    """Call a student's function on each ``(args, kwargs, expected)`` case; report the first ``show`` failures.

    A function that still raises ``NotImplementedError`` is a blank; any other exception is reported with its
    type and message (no traceback), as a wrong answer on that case.
    """
    if is_blank(function):
        return _record(Verdict(exercise, "blank", "write the function"))
    if not callable(function):
        return _record(Verdict(exercise, "wrong", f"expected a function, got {type(function).__name__}", hint))
    cases = list(cases)
    failures: list[str] = []
    for args, kwargs, want in cases:
        call = ", ".join([_fmt(a) for a in args] + [f"{k}={_fmt(v)}" for k, v in kwargs.items()])
        try:
            got = function(*args, **kwargs)
        except NotImplementedError:
            return _record(Verdict(exercise, "blank", "the function still raises NotImplementedError"))
        except Exception as error:  # the student's code may fail in any way: report it, do not crash
            failures.append(f"{function.__name__}({call}) raised {type(error).__name__}: {error}")
            continue
        if not same(want, got, rel_tol):
            reason = _kind_error(want, got) or f"expected {_fmt(want)}, got {_fmt(got)}"
            failures.append(f"{function.__name__}({call}): {reason}")
    if not failures:
        return _record(Verdict(exercise, "correct", f"all {len(cases)} cases pass"))
    shown = tuple(failures[:show]) + ((f"... and {len(failures) - show} more",) if len(failures) > show else ())
    return _record(Verdict(exercise, "wrong", f"{len(failures)} of {len(cases)} cases fail", hint, shown))
