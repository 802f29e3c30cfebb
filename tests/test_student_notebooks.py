"""The student versions of the exercise sets: generated from one source, with no answer left in them."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPEC = importlib.util.spec_from_file_location("student", ROOT / "tools" / "student.py")
assert SPEC and SPEC.loader
student = importlib.util.module_from_spec(SPEC)
sys.modules["student"] = student
SPEC.loader.exec_module(student)


def cell(kind: str, source: str, *tags: str) -> dict[str, Any]:
    new: dict[str, Any] = {"cell_type": kind, "source": source, "metadata": {"tags": list(tags)} if tags else {}}
    if kind == "code":
        new.update(outputs=[{"output_type": "stream", "name": "stdout", "text": "✓"}], execution_count=3)
    return new


def notebook(*cells: dict[str, Any]) -> dict[str, Any]:
    return {"cells": list(cells), "metadata": {"kernelspec": {"name": "python3"}}, "nbformat": 4, "nbformat_minor": 5}


def sources_of(nb: dict[str, Any]) -> list[str]:
    return ["".join(c["source"]) for c in nb["cells"]]


def test_answers_become_blanks_and_solutions_disappear() -> None:
    source = notebook(
        cell("markdown", "## Exercise 1.1\nCount the parameters."),
        cell("code", "params = 5 * 3 + 3  # SOLUTION\nex.check(params)", "hide-input"),
        cell("markdown", ":::{admonition} Solution\n:class: dropdown\n15 weights and 3 biases.\n:::", "solution"),
        cell("code", "def size(n, k):\n    \"\"\"Output size.\"\"\"\n    # BEGIN SOLUTION: use the formula\n"
                     "    out = n - k\n    return out + 1\n    # END SOLUTION\n\nex.check_size(size)", "hide-input"),
        cell("markdown", "Replace each `...`.", "student-only", "remove-cell"),
        cell("code", "ex.scoreboard()"),
    )
    result = student.student_notebook(source, "ex9-demo.ipynb")
    assert sources_of(result) == [
        "## Exercise 1.1\nCount the parameters.",
        "params = ...  # your answer\nex.check(params)",
        "def size(n, k):\n    \"\"\"Output size.\"\"\"\n    raise NotImplementedError(\"use the formula\")\n\n"
        "ex.check_size(size)",
        "Replace each `...`.",
        "ex.scoreboard()",
    ]
    tags = [c["metadata"].get("tags", []) for c in result["cells"]]
    assert tags == [[], [], [], [], []], "answer cells open, the student-only note shown"
    code = [c for c in result["cells"] if c["cell_type"] == "code"]
    assert all(c["outputs"] == [] and c["execution_count"] is None for c in code)
    assert source["cells"][1]["metadata"]["tags"] == ["hide-input"], "the source is not changed"
    assert result["metadata"]["nncost"]["student_version_of"] == "book/exercises/ex9-demo.ipynb"


def test_indented_answer_lines_keep_their_indentation() -> None:
    text, found = student.blank_code("for k in (3, 5):\n    answers[k] = k // 2  # SOLUTION\n", "demo")
    assert found and text == "for k in (3, 5):\n    answers[k] = ...  # your answer\n"


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        ([cell("code", "x = 1  # SOLUTION")], "must be tagged 'hide-input'"),
        ([cell("code", "# BEGIN SOLUTION\nx = 1\n# END SOLUTION", "hide-input")], "inside a function body"),
        ([cell("code", "def f():\n    # BEGIN SOLUTION\n    return 1", "hide-input")], "has no '# END SOLUTION'"),
        ([cell("code", "def f():\n    return 1\n    # END SOLUTION", "hide-input")], "without a '# BEGIN SOLUTION'"),
        ([cell("code", "x = 1  # SOLUTIONS here", "hide-input")], "mentions SOLUTION but is not a marker"),
        ([cell("markdown", ":::{admonition} Solution\n:class: dropdown\nx\n:::")], "must be tagged 'solution'"),
        ([cell("markdown", "note", "student-only")], "needs 'remove-cell' too"),
    ],
)
def test_bad_markers_are_refused_with_the_cell(cells: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(student.MarkerError, match=message) as error:
        student.student_notebook(notebook(*cells), "ex9-demo.ipynb")
    assert "ex9-demo.ipynb, cell 1" in str(error.value)


SOURCES = student.sources()


def test_there_are_exercise_sets() -> None:
    assert SOURCES, "no exercise sources in book/exercises/"


def test_committed_student_notebooks_are_in_sync_with_their_sources() -> None:
    problems = student.out_of_sync()
    assert not problems, "\n".join(problems) + "\nrun `python3 tools/run.py students` and commit the result"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_no_answer_leaks_into_the_student_version(source: Path) -> None:
    generated = json.loads(student.student_path(source).read_text())
    for index, c in enumerate(generated["cells"], start=1):
        text = "".join(c["source"])
        assert "SOLUTION" not in text and "{admonition} Solution" not in text, f"cell {index} shows an answer"
        assert "solution" not in c["metadata"].get("tags", []), f"cell {index} is a solution cell"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_every_exercise_has_a_blank_and_a_checker(source: Path) -> None:
    nb = json.loads(source.read_text())
    answered = [c for c in nb["cells"] if c["cell_type"] == "code" and student.blank_code("".join(c["source"]),
                                                                                          source.name)[1]]
    headings = [c for c in nb["cells"] if c["cell_type"] == "markdown" and "".join(c["source"]).startswith(
        "## Exercise")]
    assert 8 <= len(headings) <= 15, f"{source.name}: {len(headings)} exercises (the issue asks for 8-15)"
    assert len(answered) >= len(headings), f"{source.name}: an exercise without an answer cell"
    assert all("ex.check" in "".join(c["source"]) for c in answered), "every answer cell ends in a checker call"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_student_version_reports_blanks_and_no_checker_passes(source: Path) -> None:
    generated = json.loads(student.student_path(source).read_text())
    texts = [
        "".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/plain", ""))
        for c in generated["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])
    ]
    shown = "\n".join(texts)
    assert "not answered yet" in shown, f"run `python3 tools/run.py students` to execute {source.name}'s student copy"
    assert "✓ Exercise" not in shown, "a check passes before the student answered: the blank is not blank"
