"""One visual language for every figure of the book: named colours and readable defaults.

Colours carry meaning and keep it across chapters: ``input`` is always the tensor going in,
``weight`` the learned kernel or matrix, ``output`` what the layer produces, ``padding`` the zeros
added around an input, ``highlight`` the element the text is talking about.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

# Okabe & Ito's colour-blind-safe set for the colours that carry meaning; greys for the rest.
#: The book's colours by meaning (hex strings): ``input``, ``weight``, ``output``, ``bias``, ``padding``,
#: ``highlight``, ``neutral`` and ``faint``.
PALETTE: dict[str, str] = {
    "input": "#0072B2",  # blue
    "weight": "#E69F00",  # orange
    "output": "#009E73",  # bluish green
    "bias": "#CC79A7",  # reddish purple
    "padding": "#D9D9D9",  # light grey
    "highlight": "#D55E00",  # vermillion
    "neutral": "#7F7F7F",  # grey
    "faint": "#F2F2F2",  # background of untouched cells
}

#: matplotlib rcParams of every figure (dpi, font sizes, no top and right spines); see :func:`book_style`.
RC: dict[str, object] = {
    "figure.dpi": 110,
    "savefig.dpi": 110,
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "legend.fontsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


@contextmanager
def book_style() -> Iterator[None]:
    """Temporarily apply the book's matplotlib defaults (fonts, dpi, spines)."""
    import matplotlib as mpl

    with mpl.rc_context(RC):
        yield
