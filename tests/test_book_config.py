"""The book's configuration and committed notebooks are consistent with each other."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
import yaml

import nncost

ROOT = Path(__file__).resolve().parent.parent
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())
NOTEBOOKS = sorted(p for p in (ROOT / "book").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def toc_files() -> list[str]:
    files = [TOC["root"]]
    for part in TOC.get("parts", []):
        for chapter in part["chapters"]:
            files.append(chapter["file"])
            files.extend(section["file"] for section in chapter.get("sections", []))
    return files


def test_every_toc_entry_exists() -> None:
    missing = [f for f in toc_files() if not any((ROOT / f).with_suffix(s).exists() for s in (".md", ".ipynb"))]
    assert not missing, f"_toc.yml lists files that do not exist: {missing}"


def test_every_notebook_is_in_the_toc() -> None:
    """Every notebook is a page, except the exercises' student versions: their source is the page."""
    listed = {str(Path(f).with_suffix("")) for f in toc_files()}

    def page(path: Path) -> str:
        relative = path.relative_to(ROOT).with_suffix("")
        if relative.parent == Path("book/exercises/student"):
            relative = relative.parent.parent / relative.name
        return str(relative)

    orphans = [str(p.relative_to(ROOT)) for p in NOTEBOOKS if page(p) not in listed]
    assert not orphans, f"notebooks missing from _toc.yml (readers would never see them): {orphans}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_executed_in_order(path: Path) -> None:
    notebook = json.loads(path.read_text())
    assert notebook["metadata"]["kernelspec"]["name"] == "python3"
    code = [c for c in notebook["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]
    counts = [c["execution_count"] for c in code]
    assert counts == list(range(1, len(code) + 1)), f"re-run from a fresh kernel and save: counts {counts}"
    errors = [o for c in code for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert not errors, f"stored error outputs: {[e['ename'] for e in errors]}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_setup_cell_installs_nncost_from_the_configured_repository(path: Path) -> None:
    notebook = json.loads(path.read_text())
    setup = next(c for c in notebook["cells"] if c["cell_type"] == "code")
    source = "".join(setup["source"])
    assert "hide-input" in setup["metadata"].get("tags", []), "the setup cell must be hidden (tag hide-input)"
    assert "except ImportError" in source and "%pip install" in source, "the setup cell must install nncost if missing"
    urls = re.findall(r"git\+(https://\S+?)[\"'#]", source)
    assert urls == [CONFIG["repository"]["url"]], f"install guard {urls} != _config.yml repository.url"


def test_requirements_pin_the_measured_toolchain() -> None:
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    pins = dict(line.split("==", 1) for line in lines if "==" in line and not line.startswith("#"))
    assert pins["jupyter-book"] == "1.0.4.post1"
    assert pins["torch"] == "2.13.0"
    assert "django-static-mathjax" in pins, "MathJax is served from the book's own static files"
    unpinned = [line for line in lines if line and not line.startswith(("#", "-e")) and "==" not in line]
    assert not unpinned, f"unpinned requirements: {unpinned}"


def test_package_dependencies_are_lower_bounds_only() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deps = project["dependencies"] + [d for extra in project["optional-dependencies"].values() for d in extra]
    assert deps and all("==" not in d and "<" not in d for d in deps), deps


def test_readme_example_is_what_nncost_gives() -> None:
    readme = (ROOT / "README.md").read_text()
    call = re.search(r"layer = (nncost\.conv2d\(.*\))\n.*# \((\(.*?\)), (\d+), (\d+), (\d+)\)", readme)
    assert call, "README's nncost example not found"
    layer = eval(call.group(1), {"nncost": nncost})  # the README's own call
    assert str(layer.out_shape) == call.group(2)
    assert (layer.params, layer.macs, layer.flops) == tuple(int(call.group(i)) for i in (3, 4, 5))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_carries_no_execution_timestamps(path: Path) -> None:
    notebook = json.loads(path.read_text())
    stamped = [i for i, c in enumerate(notebook["cells"]) if "execution" in c.get("metadata", {})]
    assert not stamped, f"cells {stamped} carry timestamps: re-run with `python3 tools/run.py execute {path.name}`"
