#!/usr/bin/env python3
"""Generate the student version of each exercise notebook from its one source, or check they are in sync.

    python3 tools/student.py            # write book/exercises/student/<name>.ipynb for every source
    python3 tools/student.py --check    # exit 1 if a committed student notebook differs from its source

The source ``book/exercises/<name>.ipynb`` is the book's page: tasks, answers and explanations. Markers:

- a code line ``name = <answer>  # SOLUTION`` becomes ``name = ...  # your answer``;
- a block between ``# BEGIN SOLUTION`` (optionally ``# BEGIN SOLUTION: what to write``) and ``# END SOLUTION``,
  inside a function body, becomes ``raise NotImplementedError("what to write")``;
- a cell tagged ``solution`` (worked explanations) is left out;
- a cell tagged ``student-only`` (with ``remove-cell``, so the book hides it) is kept, untagged.

Cells holding answers are tagged ``hide-input`` in the source, so the book shows them collapsed; the student
version shows them open. The student version is saved without outputs: ``python3 tools/run.py students``
generates and then executes it, so nbval can check that every blank reports "not answered yet".
``tools/run.py execute`` leaves the generated cells alone, so the sync check compares cell types, sources and
tags only.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EXERCISES = ROOT / "book" / "exercises"
STUDENT = EXERCISES / "student"

ANSWER_LINE = re.compile(r"^(?P<indent>\s*)(?P<target>[^=#]+?)\s*=\s*(?P<answer>.+?)\s*#\s*SOLUTION\s*$")
BEGIN = re.compile(r"^(?P<indent>\s*)#\s*BEGIN SOLUTION(?::\s*(?P<message>.*?))?\s*$")
END = re.compile(r"^\s*#\s*END SOLUTION\s*$")
SOLUTION_MARKDOWN = re.compile(r"\{solution\}|\{admonition\}\s*Solution", re.IGNORECASE)


class MarkerError(ValueError):
    """A source notebook whose solution markers cannot be turned into a student version."""


def sources() -> list[Path]:
    """The exercise sources: every notebook directly in book/exercises/."""
    return sorted(EXERCISES.glob("*.ipynb"))


def student_path(source: Path) -> Path:
    return STUDENT / source.name


def _text(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def blank_code(text: str, where: str) -> tuple[str, bool]:
    """``text`` with its answers blanked; the flag says whether it held any marker."""
    out: list[str] = []
    found = False
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        begin = BEGIN.match(line)
        if begin:
            indent = begin["indent"]
            if not indent:
                raise MarkerError(f"{where}: '# BEGIN SOLUTION' must be inside a function body (indented); "
                                  "blank a top-level answer with a '  # SOLUTION' line instead")
            end = next((j for j in range(i + 1, len(lines)) if END.match(lines[j])), None)
            if end is None:
                raise MarkerError(f"{where}: '# BEGIN SOLUTION' on line {i + 1} has no '# END SOLUTION'")
            message = begin["message"] or "write your code here"
            out.append(f"{indent}raise NotImplementedError({json.dumps(message, ensure_ascii=False)})")
            found, i = True, end + 1
            continue
        if END.match(line):
            raise MarkerError(f"{where}: '# END SOLUTION' on line {i + 1} without a '# BEGIN SOLUTION'")
        answer = ANSWER_LINE.match(line)
        if answer:
            out.append(f"{answer['indent']}{answer['target']} = ...  # your answer")
            found = True
        elif "SOLUTION" in line:
            raise MarkerError(f"{where}: line {i + 1} mentions SOLUTION but is not a marker: {line.strip()!r}")
        else:
            out.append(line)
        i += 1
    return "\n".join(out) + ("\n" if text.endswith("\n") else ""), found


def student_notebook(notebook: dict[str, Any], name: str = "notebook") -> dict[str, Any]:
    """The student version of a source notebook (a new dict; the source is not changed)."""
    result = copy.deepcopy(notebook)
    cells = []
    for index, cell in enumerate(notebook["cells"], start=1):
        where = f"{name}, cell {index}"
        tags = list(cell.get("metadata", {}).get("tags", []))
        text = _text(cell)
        if "solution" in tags:
            continue
        if cell["cell_type"] == "markdown" and SOLUTION_MARKDOWN.search(text):
            raise MarkerError(f"{where}: a markdown solution must be tagged 'solution' so students do not see it")
        new = copy.deepcopy(cell)
        if "student-only" in tags:
            if "remove-cell" not in tags:
                raise MarkerError(f"{where}: a 'student-only' cell needs 'remove-cell' too, so the book hides it")
            tags = [t for t in tags if t not in ("student-only", "remove-cell")]
        if cell["cell_type"] == "code":
            text, found = blank_code(text, where)
            if found:
                if "hide-input" not in tags:
                    raise MarkerError(f"{where}: a cell with answers must be tagged 'hide-input' so the book "
                                      "shows it collapsed")
                tags = [t for t in tags if t != "hide-input"]
            new["outputs"] = []
            new["execution_count"] = None
        new["source"] = _lines(text)
        new.setdefault("metadata", {})
        new["metadata"].pop("execution", None)
        if tags:
            new["metadata"]["tags"] = tags
        else:
            new["metadata"].pop("tags", None)
        cells.append(new)
    result["cells"] = cells
    result.setdefault("metadata", {})["nncost"] = {
        "student_version_of": f"book/exercises/{name}",
        "generated_by": "tools/student.py (do not edit: edit the source and regenerate)",
    }
    return result


def comparable(notebook: dict[str, Any]) -> list[tuple[str, str, tuple[str, ...]]]:
    """What the sync check compares: each cell's type, source and tags (not outputs)."""
    return [(c["cell_type"], _text(c), tuple(c.get("metadata", {}).get("tags", []))) for c in notebook["cells"]]


def out_of_sync() -> list[str]:
    """One line per student notebook that is missing, stale, or has no source."""
    problems = []
    expected = {student_path(s): s for s in sources()}
    for target, source in expected.items():
        wanted = student_notebook(json.loads(source.read_text()), source.name)
        if not target.exists():
            problems.append(f"{target.relative_to(ROOT)} is missing")
        elif comparable(json.loads(target.read_text())) != comparable(wanted):
            problems.append(f"{target.relative_to(ROOT)} differs from {source.relative_to(ROOT)}")
    for orphan in sorted(set(STUDENT.glob("*.ipynb")) - set(expected)):
        problems.append(f"{orphan.relative_to(ROOT)} has no source in book/exercises/")
    return problems


def write_all() -> list[Path]:
    """Write every student notebook whose cells changed (an unchanged one keeps its outputs); return those."""
    STUDENT.mkdir(parents=True, exist_ok=True)
    written = []
    for source in sources():
        target = student_path(source)
        wanted = student_notebook(json.loads(source.read_text()), source.name)
        if target.exists() and comparable(json.loads(target.read_text())) == comparable(wanted):
            continue
        target.write_text(json.dumps(wanted, indent=1, ensure_ascii=False) + "\n")
        written.append(target)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only check that the student notebooks are in sync")
    args = parser.parse_args()
    try:
        if args.check:
            problems = out_of_sync()
            for line in problems:
                print(line)
            if problems:
                sys.exit("student notebooks out of sync: run `python3 tools/run.py students`")
            print(f"{len(sources())} student notebooks in sync")
        else:
            written = write_all()
            for path in written:
                print(f"wrote {path.relative_to(ROOT)}")
            print(f"{len(sources()) - len(written)} student notebooks already in sync (left as they are)")
    except MarkerError as error:
        sys.exit(f"error: {error}")


if __name__ == "__main__":
    main()
