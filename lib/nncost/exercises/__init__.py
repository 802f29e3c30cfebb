"""Checkers for the book's exercise notebooks, one module per part of the book.

Each ``check_*`` function derives the expected answer with ``nncost``, compares it with the student's answer
and returns a :class:`~nncost.exercises.Verdict` that prints ``✓ correct``, the expected value against the
given one with a hint naming the chapter to reread, or ``not answered yet`` for a blank (``...``).

    from nncost.exercises import basics as ex
    ex.check_mlp_params(26)
"""

from nncost.exercises._core import (
    Scoreboard,
    Verdict,
    check_answers,
    check_choice,
    check_function,
    check_value,
    check_values,
    is_blank,
    reread,
    same,
    scoreboard,
)

__all__ = [
    "Scoreboard",
    "Verdict",
    "check_answers",
    "check_choice",
    "check_function",
    "check_value",
    "check_values",
    "is_blank",
    "reread",
    "same",
    "scoreboard",
]
