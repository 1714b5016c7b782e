"""Figures of mcsim results, with matplotlib: tail CCDFs, quantiles against a swept axis,
inversion blame, and the timeline of a script.

Every function takes a result table (:func:`mcsim.load`, :meth:`Result.to_arrow
<mcsim.result.Result.to_arrow>`, or a list of its rows as dicts) and returns a
:class:`matplotlib.figure.Figure` built without pyplot, so nothing is left in pyplot's
global state and any backend (or none: ``fig.savefig("x.svg")``) works.  Values are read
from the table: quantiles and their 95% intervals from the exact histograms stored in each
row (``<metric>_hist_*``, :func:`mcsim.dataset.row_histogram`), never re-estimated from
summaries.  What a figure had to leave out (too many facets, metrics without samples) is
said on the figure and listed in ``fig.mcsim_notes``.

>>> import mcsim, mcsim.plot
>>> table = mcsim.simulate(policy="hold", throttle_depth=7, trials=3000, seed=1).to_arrow()
>>> fig = mcsim.plot.ccdf(table)
>>> ax = fig.axes[0]
>>> ax.get_xscale(), ax.get_yscale(), len(ax.get_lines())
('log', 'log', 1)
"""
from .canvas import MAX_BARS, MAX_FACETS, MAX_LINES, arrange, new_figure, note
from .data import (STAT_QUANTILES, axes_of, axis_column, ccdf_points, check_metric,
                   distinct, format_value, histogram, label, row_stat, rows_of, select,
                   sort_key, stat_value, with_workload_vars, workload_var_columns)
from .figures import blame, ccdf, quantiles, timeline
from .paired import TWIN_METRICS, TWIN_STATS, Twin, ccdf_twin, difference, split, twins

__all__ = ["ccdf", "quantiles", "blame", "timeline", "rows_of", "select", "axes_of",
           "axis_column", "distinct", "label", "format_value", "row_stat", "stat_value",
           "histogram", "ccdf_points", "check_metric", "sort_key", "with_workload_vars",
           "workload_var_columns", "new_figure", "note",
           "arrange", "MAX_FACETS", "MAX_LINES", "MAX_BARS", "STAT_QUANTILES", "twins",
           "Twin", "ccdf_twin", "difference", "split", "TWIN_METRICS", "TWIN_STATS"]
