"""The built HTML book, checked as a reader meets it.

These tests read ``_build/html``, which ``python3 tools/run.py test`` builds (warnings as errors) before it
runs pytest. Run on its own, without a build, the module is skipped with a message saying how to build.
"""

from __future__ import annotations

import re
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
HTML = ROOT / "_build" / "html"
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())

if not (HTML / "index.html").exists():
    pytest.skip("no built book: run `python3 tools/run.py build` (or the test command, which builds it)",
                allow_module_level=True)


def toc_files() -> list[str]:
    files = [TOC["root"]]
    for part in TOC.get("parts", []):
        files.extend(chapter["file"] for chapter in part["chapters"])
    return files


PAGES = [HTML / f"{f}.html" for f in toc_files()]
NOTEBOOK_PAGES = [HTML / f"{f}.html" for f in toc_files() if (ROOT / f"{f}.ipynb").exists()]


class Page(HTMLParser):
    """The links, sources, ids and classes of one HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.sources: list[tuple[str, str]] = []  # (tag, src)
        self.ids: set[str] = set()
        self.classes: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if "id" in a:
            self.ids.add(a["id"])
        if "class" in a:
            self.classes.append(a["class"])
        if tag == "a" and "href" in a:
            self.links.append(a["href"])
        if tag in ("img", "script") and a.get("src"):
            self.sources.append((tag, a["src"]))
        if tag == "link" and a.get("href"):
            self.sources.append((tag, a["href"]))


@cache
def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def is_external(url: str) -> bool:
    return bool(urlsplit(url).scheme) or url.startswith("//")


def test_every_toc_page_was_built() -> None:
    missing = [str(p.relative_to(HTML)) for p in PAGES if not p.exists()]
    assert not missing, f"pages in _toc.yml missing from the build: {missing}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_page_shows_no_error_output(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    classes = " ".join(parse(page).classes)
    assert "output traceback" not in classes and "output error" not in classes, "an error output is shown"
    assert "output stderr" not in classes, "a stderr output (warning or error) is shown"
    assert "Traceback (most recent call last)" not in text


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_internal_links_and_images_resolve(page: Path) -> None:
    parsed = parse(page)
    broken = []
    for url in parsed.links + [src for _, src in parsed.sources]:
        if is_external(url) or url.startswith(("mailto:", "javascript:")):
            continue
        parts = urlsplit(url)
        target = page if not parts.path else (page.parent / unquote(parts.path)).resolve()
        if not target.exists():
            broken.append(url)
        elif parts.fragment and target.suffix == ".html" and unquote(parts.fragment) not in parse(target).ids:
            broken.append(url)
    assert not broken, f"{page.name}: links or images that do not resolve: {broken[:10]}"


class Assets(HTMLParser):
    """The scripts and stylesheets a page loads."""

    def __init__(self) -> None:
        super().__init__()
        self.loaded: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "script" and a.get("src"):
            self.loaded.append(a["src"])
        if tag == "link" and a.get("rel") in ("stylesheet", "preload") and a.get("href"):
            self.loaded.append(a["href"])


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_scripts_and_styles_are_served_locally(page: Path) -> None:
    assets = Assets()
    assets.feed(page.read_text(encoding="utf-8"))
    external = [src for src in assets.loaded if is_external(src)]
    assert not external, f"{page.name} loads from the network: {external}"
    missing = [src for src in assets.loaded if not (page.parent / urlsplit(src).path).resolve().exists()]
    assert not missing, f"{page.name} loads files that are not in the build: {missing}"


MATH_PAGES = [p for p in PAGES if p.exists() and "math notranslate nohighlight" in p.read_text(encoding="utf-8")]


def test_most_chapters_have_math_for_mathjax() -> None:
    assert len(MATH_PAGES) >= len(NOTEBOOK_PAGES) // 2, "math is not reaching MathJax on most chapters"


@pytest.mark.parametrize("page", MATH_PAGES, ids=lambda p: p.stem)
def test_math_is_typeset_by_the_local_mathjax(page: Path) -> None:
    scripts = [src for tag, src in parse(page).sources if tag == "script" and "mathjax" in src.lower()]
    assert len(scripts) == 1 and not is_external(scripts[0]), f"MathJax script: {scripts}"
    local = (page.parent / urlsplit(scripts[0]).path).resolve()
    assert local.exists(), f"{local} missing"
    fonts = local.parent / "output" / "chtml" / "fonts" / "woff-v2"
    assert any(fonts.glob("*.woff")), "MathJax fonts missing"


def launch_target(page: Path) -> str:
    """The notebook a page's launch buttons must open: its own, or for an exercise set the student version."""
    source = page.relative_to(HTML).with_suffix(".ipynb")
    if source.parent == Path("book/exercises"):
        source = source.parent / "student" / source.name
    return source.as_posix()


@pytest.mark.parametrize("page", NOTEBOOK_PAGES, ids=lambda p: p.stem)
def test_launch_buttons_open_this_notebook(page: Path) -> None:
    source = launch_target(page)
    assert (ROOT / source).exists()
    repo = urlsplit(CONFIG["repository"]["url"]).path.strip("/")
    branch = CONFIG["repository"]["branch"]
    links = parse(page).links
    colab = f"{CONFIG['launch_buttons']['colab_url']}/github/{repo}/blob/{branch}/{source}"
    binder = f"{CONFIG['launch_buttons']['binderhub_url']}/v2/gh/{repo}/{branch}?urlpath=lab/tree/{source}"
    assert colab in links, f"no Colab link to {source}"
    assert binder in links, f"no Binder link to {source}"
    downloads = [link for link in links if link.endswith(f"_sources/{source}")]
    assert downloads, "no download link"
    assert all((page.parent / unquote(urlsplit(link).path)).resolve().exists() for link in downloads)


EXERCISE_PAGES = [p for p in NOTEBOOK_PAGES if p.parent == HTML / "book" / "exercises"]


@pytest.mark.parametrize("page", EXERCISE_PAGES, ids=lambda p: p.stem)
def test_exercise_pages_never_launch_the_answers(page: Path) -> None:
    answers = page.relative_to(HTML).with_suffix(".ipynb").as_posix()
    leaking = [link for link in parse(page).links if link.endswith(answers)]
    assert not leaking, f"launch or download links open the answers: {leaking}"
    html = page.read_text(encoding="utf-8")
    assert re.search(r"✓ Exercise \d+\.\d+: correct", html), "the page shows no passing check"
    blank = re.findall(r"Exercise \d+\.\d+: (?:not answered yet|not yet right)", html)
    assert not blank, f"the page must show the answered, checked version: {blank}"


def test_every_chapter_cites_the_bibliography() -> None:
    chapters = [p for p in NOTEBOOK_PAGES if p not in EXERCISE_PAGES]
    uncited = [p.stem for p in chapters if not any("bibliography.html#" in link for link in parse(p).links)]
    assert not uncited, f"chapters that cite no paper: {uncited}"


def test_figures_are_opaque_so_they_read_in_dark_mode() -> None:
    # the theme's dark mode puts pages on a dark background: a transparent figure would show black text
    # on black; every figure is drawn on an opaque white canvas instead
    from PIL import Image

    figures = sorted((HTML / "_images").glob("*.png"))
    assert figures, "no figures in the build"
    transparent = [f.name for f in figures if Image.open(f).convert("RGBA").getpixel((1, 1))[3] < 255]
    assert not transparent, f"figures with a transparent background: {transparent[:5]}"
