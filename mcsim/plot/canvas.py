"""The canvas of mcsim's figures: a matplotlib Figure without pyplot, margins in inches,
notes saying what a figure leaves out, honest empty panels and tick formats in units.

>>> fig = new_figure(4, 3)
>>> note(fig, "2 of 9 lines shown")
>>> arrange(fig)
>>> fig.mcsim_notes, [t.get_text() for t in fig.texts]
(['2 of 9 lines shown'], ['2 of 9 lines shown'])
"""
from __future__ import annotations

import math

#: Facets (panel rows) and lines a figure shows at most; the rest is named in a note.
MAX_FACETS = 6
MAX_LINES = 12
MAX_BARS = 48


def new_figure(width: float, height: float):
    """A matplotlib Figure on its own Agg canvas (pyplot is never involved).  Its margins
    are set by :func:`arrange` in inches: a layout engine would cost seconds per figure
    in a report of hundreds of points."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    fig.mcsim_notes = []
    return fig


def note(fig, text: str) -> None:
    """Say on the figure (and in ``fig.mcsim_notes``) what it leaves out or why it is empty."""
    if not hasattr(fig, "mcsim_notes"):
        fig.mcsim_notes = []
    fig.mcsim_notes.append(text)


def arrange(fig, left: float = 0.85, right: float = 0.2, top: float = 0.45,
            bottom: float = 0.55, hspace: float = 0.5, wspace: float = 0.3) -> None:
    """Margins in inches (room below for the notes, which are drawn here), so a figure of
    any number of panels keeps the same spacing."""
    notes = getattr(fig, "mcsim_notes", [])
    extra = 0.14 * sum(1 + len(n) // 160 for n in notes)
    width, height = fig.get_size_inches()
    if extra:
        height += extra
        fig.set_figheight(height)
        fig.text(0.01, 0.01, "\n".join(_wrap(n) for n in notes), fontsize=7,
                 color="#555555", ha="left", va="bottom")
    fig.subplots_adjust(left=left / width, right=1 - right / width, top=1 - top / height,
                        bottom=(bottom + extra) / height, hspace=hspace, wspace=wspace)


def _wrap(text: str, width: int = 160) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width)) or text


def empty_axes(ax, text: str) -> None:
    """An honest empty panel: the reason in the middle, no ticks."""
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center",
            fontsize=9, color="#555555", wrap=True)
    ax.set_xticks([])
    ax.set_yticks([])


def duration_formatter():
    """Tick labels in human units (``10 µs``, ``8 ms``) for an axis in ns."""
    from matplotlib.ticker import FuncFormatter

    from ..units import format_duration

    return FuncFormatter(lambda v, _pos: format_duration(v) if v >= 0 else "")


def cap(items: list, limit: int, what: str, fig) -> list:
    if len(items) > limit:
        note(fig, f"{what}: {limit} of {len(items)} shown; left out: "
             + "; ".join(str(i) for i in items[limit:limit + 5])
             + (" ..." if len(items) > limit + 5 else ""))
    return items[:limit]


def symlog_axis(ax, top: float, linthresh: float, durations: bool) -> None:
    """Linear from 0 to ``linthresh``, logarithmic above; ticks at 0 and the decades
    from ``linthresh`` up to ``top``, so 0, 9 µs and 60 ms share one axis."""
    from matplotlib.ticker import FixedLocator, NullLocator

    ax.set_yscale("symlog", linthresh=linthresh)
    decades = max(1, math.ceil(math.log10(max(top, linthresh) / linthresh)))
    step = 1 if decades <= 6 else 2
    ticks = [0.0] + [linthresh * 10 ** k for k in range(0, decades + 1, step)]
    ax.yaxis.set_major_locator(FixedLocator(ticks))
    ax.yaxis.set_minor_locator(NullLocator())
    ax.set_ylim(0, max(top * 1.5, linthresh * 10 ** decades if top > 0 else linthresh))
    if durations:
        ax.yaxis.set_major_formatter(duration_formatter())


_SUPERSCRIPT = str.maketrans("-0123456789", "\u207b\u2070\u00b9\u00b2\u00b3\u2074"
                                             "\u2075\u2076\u2077\u2078\u2079")


def decade_formatter():
    """Tick labels ``10⁻⁶`` at the decades of a log axis, in plain text: matplotlib's
    default writes them as mathtext, whose parser costs more than the rest of a CCDF.

    >>> f = decade_formatter()
    >>> f(1e-6, 0), f(1.0, 0), f(100.0, 0), f(0.5, 0)
    ('10⁻⁶', '10⁰', '10²', '')
    """
    from matplotlib.ticker import FuncFormatter

    def fmt(v, _pos):
        if v <= 0:
            return ""
        k = round(math.log10(v))
        return f"10{str(k).translate(_SUPERSCRIPT)}" if math.isclose(v, 10.0 ** k) else ""
    return FuncFormatter(fmt)


def percent_formatter():
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _pos: f"{v:.1%}" if v < 0.1 else f"{v:.0%}")
