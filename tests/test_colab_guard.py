"""Every notebook's setup cell installs nncost when the kernel lacks it (Colab, Binder), tested offline.

The guard (``try: import nncost`` / ``except ImportError: %pip install ...``) is run as IPython would run
it, in a process where ``import nncost`` fails until the (fake) ``%pip`` has been called. Nothing is
downloaded: the test checks what would be installed, and that the import then succeeds.
"""

from __future__ import annotations

import ast
import json
import shlex
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from IPython.core.inputtransformer2 import TransformerManager

ROOT = Path(__file__).resolve().parent.parent
REPOSITORY = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
NOTEBOOKS = sorted(p for p in (ROOT / "book").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


class HideNncost:
    """A meta-path finder that makes ``import nncost`` fail, as on a fresh Colab kernel, until lifted."""

    def __init__(self) -> None:
        self.hidden = True

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if self.hidden and (name == "nncost" or name.startswith("nncost.")):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


class FakeIPython:
    """Stands in for ``get_ipython()``: records ``%pip`` calls and 'installs' by lifting the hiding."""

    def __init__(self, hider: HideNncost) -> None:
        self.hider = hider
        self.magics: list[tuple[str, str]] = []

    def run_line_magic(self, name: str, line: str) -> None:
        self.magics.append((name, line))
        if name == "pip":
            self.hider.hidden = False


def guard_of(notebook: Path) -> str:
    """The try/except ImportError block of the notebook's first code cell, as IPython compiles it."""
    cell = next(c for c in json.loads(notebook.read_text())["cells"] if c["cell_type"] == "code")
    python = TransformerManager().transform_cell("".join(cell["source"]))
    for node in ast.parse(python).body:
        if isinstance(node, ast.Try):
            return ast.unparse(node)
    raise AssertionError(f"{notebook.name}: the setup cell has no try/except import guard")


def run_guard(code: str, hide: bool) -> tuple[dict, FakeIPython]:
    hider = HideNncost()
    hider.hidden = hide
    shell = FakeIPython(hider)
    saved = {name: mod for name, mod in sys.modules.items() if name == "nncost" or name.startswith("nncost.")}
    for name in saved:
        del sys.modules[name]
    sys.meta_path.insert(0, hider)
    namespace: dict = {"get_ipython": lambda: shell}
    try:
        exec(compile(code, "<setup cell>", "exec"), namespace)
    finally:
        sys.meta_path.remove(hider)
        for name in [n for n in sys.modules if n == "nncost" or n.startswith("nncost.")]:
            del sys.modules[name]
        sys.modules.update(saved)
    return namespace, shell


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_guard_installs_nncost_from_the_repository_when_missing(notebook: Path) -> None:
    namespace, shell = run_guard(guard_of(notebook), hide=True)
    assert len(shell.magics) == 1, f"expected one %pip call, got {shell.magics}"
    name, line = shell.magics[0]
    words = shlex.split(line)
    assert name == "pip" and words[0] == "install", line
    assert f"nncost @ git+{REPOSITORY}" in words, f"installs {words}, not nncost from {REPOSITORY}"
    assert namespace["nncost"].__name__ == "nncost", "nncost is not importable after the install"


@pytest.mark.parametrize("notebook", NOTEBOOKS[:1], ids=lambda p: p.name)
def test_guard_installs_nothing_when_nncost_is_present(notebook: Path) -> None:
    namespace, shell = run_guard(guard_of(notebook), hide=False)
    assert shell.magics == [], "the guard ran %pip although nncost was importable"
    assert namespace["nncost"].__name__ == "nncost"
