"""The logo and favicon are drawn by code: the committed files are what tools/make_logo.py draws."""

from __future__ import annotations

import runpy
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_committed_logo_and_favicon_are_what_the_script_draws(tmp_path: Path) -> None:
    script = runpy.run_path(str(ROOT / "tools" / "make_logo.py"), run_name="make_logo")
    script["main"](tmp_path)
    for name in ("logo.png", "favicon.png"):
        drawn = (tmp_path / name).read_bytes()
        assert drawn[:8] == b"\x89PNG\r\n\x1a\n"
        assert drawn == (ROOT / "book" / "_static" / name).read_bytes(), f"re-run tools/make_logo.py: {name} is stale"
