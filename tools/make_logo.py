#!/usr/bin/env python3
"""Draw the book's logo and favicon with matplotlib (no image is drawn by hand).

    python3 tools/make_logo.py        # writes book/_static/logo.png and book/_static/favicon.png

The logo is a 3×3 kernel (orange) over an input grid (blue) producing one output cell (green): the
sliding window the book counts. Colours come from nncost.style.PALETTE. Output is deterministic.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, Rectangle

from nncost.style import PALETTE

STATIC = Path(__file__).resolve().parent.parent / "book" / "_static"
PNG_METADATA = {"Software": None}  # no version string: the file is the same on every run


def draw(size: float, with_text: bool) -> plt.Figure:
    """The mark: a 5×5 input, the 3×3 window on it, an arrow, and the output cell."""
    fig = plt.figure(figsize=(size * (2.6 if with_text else 1), size), dpi=100)
    ax = fig.add_axes((0, 0, 1 / (2.6 if with_text else 1), 1))
    ax.set_xlim(-0.3, 9.3)
    ax.set_ylim(0.0, 9.0)
    ax.set_aspect("equal")
    ax.axis("off")
    for i in range(5):
        for j in range(5):
            ax.add_patch(Rectangle((j, 2 + i), 1, 1, facecolor=PALETTE["input"], edgecolor="white", lw=1.5))
    ax.add_patch(Rectangle((0, 4), 3, 3, facecolor=PALETTE["weight"], edgecolor="white", lw=1.5, alpha=0.95))
    ax.add_patch(Rectangle((7.2, 4.7), 1.6, 1.6, facecolor=PALETTE["output"], edgecolor="white", lw=1.5))
    ax.add_patch(FancyArrowPatch((5.2, 5.5), (7.1, 5.5), arrowstyle="-|>", mutation_scale=18,
                                 color=PALETTE["neutral"], lw=2.5))
    if with_text:
        fig.text(0.42, 0.55, "nncost", fontsize=size * 13, fontweight="bold", color=PALETTE["neutral"],
                 va="center")
        fig.text(0.42, 0.28, "count it, then prove it", fontsize=size * 4.6, color=PALETTE["neutral"],
                 va="center")
    return fig


def main(out: Path = STATIC) -> None:
    out.mkdir(parents=True, exist_ok=True)
    draw(2.0, with_text=True).savefig(out / "logo.png", transparent=True, metadata=PNG_METADATA)
    draw(0.64, with_text=False).savefig(out / "favicon.png", transparent=True, metadata=PNG_METADATA)
    plt.close("all")
    print(f"wrote {out / 'logo.png'} and {out / 'favicon.png'}")


if __name__ == "__main__":
    main()
