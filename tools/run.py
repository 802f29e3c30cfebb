#!/usr/bin/env python3
"""Set up the book's environment and run it: the README's two commands, and a helper.

    python3 tools/run.py test      # ruff, the book build, package tests, nbval over every notebook, HTML tests
    python3 tools/run.py build     # the HTML book, warnings as errors; prints where index.html is
    python3 tools/run.py execute book/01-basics/02-mlp.ipynb ...   # re-run notebooks, save outputs
    python3 tools/run.py students  # regenerate the exercises' student notebooks from their sources, run them

Each command first makes sure the virtual environment (``.venv``, or ``$NNCOST_VENV``) exists and
holds ``requirements.txt``; it reinstalls only when ``requirements.txt`` or ``pyproject.toml`` changed.
``--fresh`` deletes the environment and starts again. Needs only Python 3.11+ with pip and venv.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(os.environ.get("NNCOST_VENV", ROOT / ".venv")).resolve()
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"
STAMP = VENV / ".nncost-requirements.sha256"
MATHJAX_DEST = ROOT / "book" / "_static" / "mathjax"


def run(*command: str | Path, **kwargs: object) -> None:
    """Run a command from the repository root; exit with its status if it fails."""
    printable = " ".join(str(c) for c in command)
    print(f"+ {printable}", flush=True)
    result = subprocess.run([str(c) for c in command], cwd=ROOT, **kwargs)  # type: ignore[call-overload]
    if result.returncode:
        sys.exit(result.returncode)


def requirements_hash() -> str:
    digest = hashlib.sha256()
    for name in ("requirements.txt", "pyproject.toml"):
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def ensure_environment(fresh: bool) -> None:
    """Create the virtual environment and install requirements.txt (which installs nncost itself)."""
    if fresh and VENV.exists():
        print(f"removing {VENV}", flush=True)
        shutil.rmtree(VENV)
    if not PYTHON.exists():
        run(sys.executable, "-m", "venv", VENV)
    wanted = requirements_hash()
    if STAMP.exists() and STAMP.read_text().strip() == wanted:
        return
    started = time.perf_counter()
    run(PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    run(PYTHON, "-m", "pip", "install", "--quiet", "-r", "requirements.txt")
    STAMP.write_text(wanted + "\n")
    print(f"environment ready in {time.perf_counter() - started:.0f} s: {VENV}", flush=True)


def install_mathjax() -> None:
    """Copy MathJax 3 (es5 build and fonts) from the installed django-static-mathjax package into
    book/_static/mathjax, so the built book typesets math with no network access."""
    locate = "import mathjax, pathlib; print(pathlib.Path(mathjax.__file__).parent / 'static' / 'mathjax')"
    found = subprocess.run(
        [str(PYTHON), "-c", locate],
        capture_output=True, text=True, check=True,
    )
    source = Path(found.stdout.strip()) / "es5"
    if not (source / "tex-mml-chtml.js").exists():
        sys.exit(f"MathJax not found at {source}: is django-static-mathjax in requirements.txt?")
    target = MATHJAX_DEST / "es5"
    if not (target / "tex-mml-chtml.js").exists():
        shutil.rmtree(MATHJAX_DEST, ignore_errors=True)
        shutil.copytree(source, target)


def test(extra: list[str]) -> None:
    run(BIN / "ruff", "check", ".")
    build([])  # tests/test_html.py and tests/test_browser.py check the freshly built pages
    run(
        PYTHON, "-m", "pytest",
        "--nbval", "--nbval-current-env", "--nbval-sanitize-with", "tests/nbval_sanitize.cfg",
        *extra,
    )


def build(extra: list[str]) -> None:
    install_mathjax()
    run(BIN / "jupyter-book", "build", ".", "--all", "--warningiserror", "--keep-going", *extra)
    print(f"\nThe book is at {ROOT / '_build' / 'html' / 'index.html'}")


def execute(notebooks: list[str]) -> None:
    """Re-execute notebooks from a fresh kernel, in order, and save their outputs in place."""
    if not notebooks:
        sys.exit("execute: name the notebooks to re-run, e.g. book/01-basics/02-mlp.ipynb")
    script = """
import sys, time
from pathlib import Path
import nbformat
from nbclient import NotebookClient
for name in sys.argv[1:]:
    path = Path(name).resolve()
    started = time.perf_counter()
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)  # no timestamps: they would change on every run
    NotebookClient(notebook, timeout=600, kernel_name="python3", record_timing=False,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    nbformat.write(notebook, path)
    print(f"{name}: executed in {time.perf_counter() - started:.1f} s", flush=True)
"""
    run(PYTHON, "-c", script, *notebooks)


def students(names: list[str]) -> None:
    """Write each exercise set's student version (tools/student.py), then execute it from a fresh kernel.

    With names (e.g. ``ex1-basics``), execute only those student notebooks after generating them all."""
    run(PYTHON, "tools/student.py")
    folder = ROOT / "book" / "exercises" / "student"
    generated = sorted(str(p.relative_to(ROOT)) for p in folder.glob("*.ipynb") if not names or p.stem in names)
    if generated:
        execute(generated)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["test", "build", "execute", "students", "setup"])
    parser.add_argument("--fresh", action="store_true", help="recreate the virtual environment first")
    args, extra = parser.parse_known_args()
    ensure_environment(args.fresh)
    if args.command == "test":
        test(extra)
    elif args.command == "build":
        build(extra)
    elif args.command == "execute":
        execute(extra)
    elif args.command == "students":
        students(extra)


if __name__ == "__main__":
    main()
