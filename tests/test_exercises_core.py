"""The checkers' shared machinery: verdict texts, blanks, comparisons, student code that fails."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nncost import exercises
from nncost.exercises import check_choice, check_function, check_value, check_values, is_blank, same


def test_correct_wrong_and_blank_values() -> None:
    ok = check_value("0.1", 26, 26, hint="reread chapter 3")
    assert ok and ok.status == "correct" and repr(ok) == "✓ Exercise 0.1: correct — 26"
    wrong = check_value("0.1", 21, 26, hint="reread chapter 3, section 'Biases'")
    assert not wrong and wrong.status == "wrong"
    assert "expected 26, got 21" in wrong.message and "Hint: reread chapter 3, section 'Biases'" in wrong.message
    blank = check_value("0.1", ..., 26, hint="reread chapter 3")
    assert not blank and blank.status == "blank" and "not answered yet" in blank.message
    assert "Hint" not in blank.message, "a blank is not a mistake: no hint"


def test_numbers_from_numpy_and_torch_are_numbers() -> None:
    assert check_value("0.2", np.int64(26), 26, hint="")
    assert check_value("0.2", torch.tensor(26), 26, hint="")
    assert check_value("0.2", 26.0, 26, hint=""), "an integral float equals the integer"
    assert not check_value("0.2", True, 1, hint=""), "a bool is not a count"
    assert not check_value("0.2", float("nan"), 1.0, hint="", rel_tol=0.1)


def test_wrong_kind_of_answer_is_named() -> None:
    assert "expected a number, got str '26'" in check_value("0.3", "26", 26, hint="h").message
    assert "forget to assign or `return`" in check_value("0.3", None, 26, hint="h").message
    assert "expected a sequence of 3 numbers" in check_value("0.3", 7, (1, 2, 3), hint="h").message
    assert "expected (1, 2, 3), got (1, 2, 4)" in check_value("0.3", (1, 2, 4), (1, 2, 3), hint="h").message
    assert check_value("0.3", [1, 2, 3], (1, 2, 3), hint="h"), "a list is as good as a tuple for a shape"


@pytest.mark.parametrize(("got", "ok"), [(2.47, True), (2.53, True), (2.6, False), (-2.5, False)])
def test_relative_tolerance(got: float, ok: bool) -> None:
    verdict = check_value("0.4", got, 2.5, hint="h", rel_tol=0.02)
    assert bool(verdict) is ok
    if not ok:
        assert "(within 2%)" in verdict.message


def test_several_values_report_each() -> None:
    verdict = check_values("0.5", {"params": 26, "macs": 20}, {"params": 26, "macs": 21}, hint="h")
    assert verdict.status == "wrong"
    assert "✓ params = 26" in verdict.message and "✗ macs: expected 21, got 20" in verdict.message
    assert check_values("0.5", {"params": ..., "macs": ...}, {"params": 26, "macs": 21}, hint="h").status == "blank"
    partly = check_values("0.5", {"params": 26, "macs": ...}, {"params": 26, "macs": 21}, hint="h")
    assert partly.status == "wrong" and "macs: not answered yet" in partly.message
    assert check_values("0.5", {"params": 26, "macs": 21}, {"params": 26, "macs": 21}, hint="h")


def test_choice() -> None:
    options = {"a": "a centre pixel", "b": "faster kernels"}
    assert check_choice("0.6", "A ", "a", options, hint="h")
    wrong = check_choice("0.6", "b", "a", options, hint="h")
    assert "expected (a) a centre pixel, got (b) faster kernels" in wrong.message
    assert "not one of the options 'a', 'b'" in check_choice("0.6", "c", "a", options, hint="h").message
    assert check_choice("0.6", ..., "a", options, hint="h").status == "blank"


def test_function_cases_blank_errors_and_wrong_results() -> None:
    cases = [((n,), {}, n * n) for n in range(1, 6)]

    def square(n: int) -> int:
        return n * n

    def unfinished(n: int) -> int:
        raise NotImplementedError("write it")

    def crashes(n: int) -> int:
        return n * n if n < 4 else 1 // 0

    def off_by_one(n: int) -> int:
        return n * n + (n == 2)

    assert check_function("0.7", square, cases, hint="h").message == "✓ Exercise 0.7: correct — all 5 cases pass"
    assert check_function("0.7", unfinished, cases, hint="h").status == "blank"
    assert check_function("0.7", ..., cases, hint="h").status == "blank"
    crashed = check_function("0.7", crashes, cases, hint="h")
    assert "2 of 5 cases fail" in crashed.message and "crashes(4) raised ZeroDivisionError" in crashed.message
    assert "off_by_one(2): expected 4, got 5" in check_function("0.7", off_by_one, cases, hint="h").message
    assert "expected a function, got int" in check_function("0.7", 3, cases, hint="h").message
    many = check_function("0.7", lambda n: 0, cases, hint="h", show=2)
    assert "... and 3 more" in many.message


def test_scoreboard_keeps_the_latest_verdict_per_exercise() -> None:
    check_value("98.2", 1, 2, hint="h")
    check_value("98.10", ..., 2, hint="h")
    check_value("98.1", 2, 2, hint="h")
    check_value("98.2", 2, 2, hint="h")  # fixed: the latest verdict counts
    board = exercises.scoreboard("98.")
    assert [v.exercise for v in board.verdicts] == ["98.1", "98.2", "98.10"]
    assert repr(board).splitlines() == ["2 of 3 exercises correct", "    … not answered yet: 98.10"]
    assert repr(exercises.scoreboard("97.")) == "No exercise checked yet in this session."


def test_helpers() -> None:
    assert is_blank(...) and not is_blank(None) and not is_blank(0)
    assert same("Max", " max ") and not same("max", 1) and same((1, (2, 3)), [1, [2, 3]])


def test_reread_hints_name_the_sections() -> None:
    from nncost.exercises import reread

    assert reread(3, "MLP", "Counting parameters") == "Reread chapter 3 (MLP), section 'Counting parameters'."
    assert reread(17, "MobileNet", "The derivation: $1/c_o$", advice="add both") == \
        "Reread chapter 17 (MobileNet), section 'The derivation: 1/c_o': add both."
    same_chapter = reread(7, "Stride", "A", also=(7, "Stride", "B"))
    assert same_chapter == "Reread chapter 7 (Stride), section 'A', and section 'B'."
    assert reread(7, "Stride", "A", also=(8, "Pooling", "B")).endswith(", and chapter 8 (Pooling), section 'B'.")
