"""Sphinx extension: on an exercise page, the launch and download buttons open the student version.

An exercise set's page (``book/exercises/<name>``) is built from its source, answers included (collapsed).
Readers who launch it in Binder or Colab, or download it, should get the notebook with blanks instead:
``book/exercises/student/<name>.ipynb``, which ``tools/student.py`` generates from the same source.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx

PREFIX = "book/exercises/"


def _is_exercise_page(pagename: str) -> bool:
    return pagename.startswith(PREFIX) and "/" not in pagename[len(PREFIX):]


def _retarget(buttons: list[dict[str, Any]], source: str, student: str) -> None:
    for button in buttons:
        if isinstance(button.get("url"), str) and button["url"].endswith(source):
            button["url"] = button["url"][: -len(source)] + student
            if button.get("label") == "download-notebook-button":
                button["text"] = ".ipynb (student)"
        _retarget(button.get("buttons", []), source, student)


def point_buttons_at_student_version(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any],
                                     doctree: Any) -> None:
    if not _is_exercise_page(pagename):
        return
    name = pagename[len(PREFIX):]
    _retarget(context.get("header_buttons", []), f"{PREFIX}{name}.ipynb", f"{PREFIX}student/{name}.ipynb")


def copy_student_notebooks(app: Sphinx, exception: Exception | None) -> None:
    """Put the student notebooks where the download button points: ``_sources/book/exercises/student/``."""
    if exception is not None or app.builder.format != "html":
        return
    source = Path(app.srcdir) / PREFIX / "student"
    target = Path(app.outdir) / "_sources" / PREFIX / "student"
    if source.is_dir():
        target.mkdir(parents=True, exist_ok=True)
        for notebook in source.glob("*.ipynb"):
            shutil.copy2(notebook, target / notebook.name)


def setup(app: Sphinx) -> dict[str, Any]:
    # sphinx-book-theme adds its header buttons at priority 501; rewrite them after that.
    app.connect("html-page-context", point_buttons_at_student_version, priority=900)
    app.connect("build-finished", copy_student_notebooks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
