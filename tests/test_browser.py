"""A real browser opens built pages: math is typeset by MathJax and every figure loads.

Uses Debian's headless Chromium with the flags a closed network needs. Skipped, with a message, where
Chromium is not installed or the book has not been built (``python3 tools/run.py build``).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HTML = ROOT / "_build" / "html"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic",
    "--virtual-time-budget=15000",
]

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (Debian: apt-get install chromium)"),
    pytest.mark.skipif(not (HTML / "index.html").exists(), reason="no built book: run `python3 tools/run.py build`"),
]

# Runs in the page once it has loaded and MathJax has typeset it (or 5 s later if there is no MathJax),
# and writes what it found into the DOM, where --dump-dom can read it.
PROBE = """
<script>
(function () {
  function report() {
    var images = Array.from(document.images);
    var broken = images.filter(function (i) { return !(i.complete && i.naturalWidth > 0); })
                       .map(function (i) { return i.getAttribute("src"); });
    var out = document.createElement("pre");
    out.id = "nncost-browser-check";
    out.textContent = JSON.stringify({
      images: images.length, broken: broken,
      math: document.querySelectorAll("mjx-container").length,
      unrendered: document.querySelectorAll(".math:not(:has(mjx-container))").length
    });
    document.body.appendChild(out);
  }
  function wait() {
    if (document.readyState !== "complete") {
      setTimeout(wait, 100);
    } else if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
      MathJax.startup.promise.then(report);
    } else {
      setTimeout(report, 5000);
    }
  }
  wait();
})();
</script>
"""

PAGES = {  # page: (expects figures, expects math)
    "book/intro.html": (False, True),
    "book/01-basics/03-mlp-computation.html": (True, True),
    "book/02-convolution/07-stride.html": (True, True),
}


def check_in_browser(page: str) -> dict:
    source = HTML / page
    probe = source.with_name(f"_browser_check_{source.name}")  # same folder: relative links still work
    probe.write_text(source.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"), encoding="utf-8")
    try:
        with tempfile.TemporaryDirectory() as profile:
            dom = subprocess.run(
                [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", probe.as_uri()],
                capture_output=True, text=True, timeout=120,
            ).stdout
    finally:
        probe.unlink()
    found = re.search(r'<pre id="nncost-browser-check"[^>]*>(.*?)</pre>', dom, re.S)
    assert found, f"the probe never reported: the page did not finish loading ({len(dom)} characters of DOM)"
    return json.loads(found.group(1).replace("&quot;", '"'))


@pytest.mark.parametrize("page", list(PAGES))
def test_page_renders_math_and_figures(page: str) -> None:
    wants_figures, wants_math = PAGES[page]
    result = check_in_browser(page)
    assert not result["broken"], f"images that did not load: {result['broken']}"
    if wants_figures:
        assert result["images"] > 0, "no figure on the page"
    if wants_math:
        assert result["math"] > 0, "MathJax typeset nothing"
        assert result["unrendered"] == 0, f"{result['unrendered']} math elements left untypeset"
