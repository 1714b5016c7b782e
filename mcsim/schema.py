"""The columns of an mcsim result table: one row per simulated configuration.

Every result mcsim writes (``mcsim run --out``, one file per sweep point, ``mcsim compact``)
has exactly these columns, in this order.  This module is the one description of them: each
:class:`Column` has a type, a unit and a meaning; the Parquet schema carries the unit and the
meaning as field metadata, and the column tables of docs/results.md are generated from it
(``python -m mcsim.schema docs/results.md`` rewrites them; a test checks they agree).

Names carry their unit: times end in ``_ns``, rates in ``_per_s``.  Parameters keep the name
a user types (``--set wake=20us``, ``mcsim.simulate(wake=...)``) as input; their result
column adds the unit (``wake_ns``).  No numpy, no pyarrow at import;
:meth:`mcsim.result.Result.row` fills the columns.

>>> names = column_names()
>>> names[:3], "hp_wait_p99_ns" in names, "fault_passes_p99" in names
(['kernel', 'era', 'policy'], True, True)
>>> stat_column("hp_wait", "p99_lo"), stat_column("hp_wait", "n")
('hp_wait_p99_lo_ns', 'hp_wait_n')
>>> param_column("wake"), param_column("hp_rate"), param_column("writer_ratio")
('wake_ns', 'hp_rate_per_s', 'writer_ratio')
>>> column("wake_ns").unit, column("hz").unit, column("hp_wait_p99_ns").description[:30]
('ns', 'Hz', '99th percentile of hp_wait (HP')
"""
from __future__ import annotations

import functools
import re
import sys
from dataclasses import dataclass
from typing import Mapping

from .layout import COUNTERS, METRICS, N_THREAD_COUNTERS
from .params import PARAM_BY_NAME, PARAMS
from .policies import BLAME_NAMES, FAULT_KINDS

#: Version of the column set; files of another version are refused with a clear error.
#: 2: parameter columns carry units (``wake_ns``, ``hp_rate_per_s``, ...), field metadata.
#: 3: kernel presets (model.md §11): the kernel, hz and the VMA-lock, retry, writeback and
#: dirty-throttling parameters; metrics hp_acq_wait, hold_vma, vma_writer_wait; counters
#: and blame kinds of the new paths.
#: 4: workloads (model.md §12): the workload's name, hash and variables, the trial kind,
#: the warm-up and window parameters, metrics scan_time and scan_wait, counters steps,
#: scans and thread_iterations_<k>, and each thread's name and loop throughput.
SCHEMA_VERSION = 4

#: Unit of each metric's samples.
METRIC_UNITS = {m: ("passes" if m == "fault_passes" else "ns") for m in METRICS}

METRIC_DESCRIPTIONS = {
    "hp_wait": "HP read()'s wait for its lock, request to running with it, summed over the "
               "read's lock acquisitions (what a ps user feels; the headline)",
    "inversion_wait": "the wait of an HP lock acquisition that was an inversion (model.md "
                      "§7.13, §11.7)",
    "lp_fault_latency": "LP fault latency, arrival to done, all passes",
    "fault_passes": "passes per LP fault (1; 2 after VM_FAULT_RETRY; 3 when the retry after "
                    "a per-VMA-locked pass drops again, model.md §11.3)",
    "writer_wait": "LP writer's (mmap/munmap/mprotect) wait for L, request to running with L",
    "hold_hp": "hold time of one HP lock acquisition",
    "hold_fault": "L hold time of one fault pass (grant to drop or release)",
    "hold_writer": "L hold time of a writer, grant to release",
    "gate_wait": "an LP bio's wait for an io.latency slot (0 when one was free)",
    "fault_lock_wait": "a fault pass's wait for L (passes under the per-VMA lock do not "
                       "wait for it)",
    "hp_acq_wait": "one HP lock acquisition's wait, request to running with the lock (0 "
                   "under the per-VMA lock; with one acquisition per read, hp_wait itself)",
    "hold_vma": "per-VMA read lock held by one fault pass, grant to drop or release (6.7+ "
                "file faults, model.md §11.2)",
    "vma_writer_wait": "a same-VMA writer's wait in vma_start_write() for the VMA's readers, "
                       "from taking L for write (6.4+; 0 when the VMA had no reader)",
    "scan_time": "a ps scan of a workload: its first cmdline read's request to its last "
                 "read's release (model.md §12.4)",
    "scan_wait": "a ps scan of a workload: the sum of its cmdline reads' hp_wait",
}

#: Per-metric statistics, as :meth:`mcsim.histogram.Histogram.summary` names them: whether
#: each is a count (int), a value in the metric's unit, or a plain ratio, and its meaning.
STATS = (
    ("n", "count"), ("overflow", "count"),
    ("mean", "value"), ("mean_lo", "value"), ("mean_hi", "value"),
    ("min", "value"), ("p50", "value"), ("p90", "value"), ("p99", "value"),
    ("p99_lo", "value"), ("p99_hi", "value"), ("p999", "value"), ("max", "value"),
    ("p99_rel_ci", "ratio"),
)
_QUANTILE = "the midpoint of the bucket holding rank ceil(p n), within 0.39%"
_WOODRUFF = "Woodruff, cluster-robust over trials; a bucket edge"
#: What each statistic is, and how it is computed (or what its special values mean).
STAT_DESCRIPTIONS = {
    "n": ("samples", ""),
    "overflow": ("samples beyond the histogram's range", "2^43 ns, about 2.4 h"),
    "mean": ("mean", ""),
    "mean_lo": ("lower end of the mean's 95% interval", "cluster-robust over trials"),
    "mean_hi": ("upper end of the mean's 95% interval", "cluster-robust over trials"),
    "min": ("exact smallest sample", ""),
    "p50": ("median", _QUANTILE),
    "p90": ("90th percentile", _QUANTILE),
    "p99": ("99th percentile", _QUANTILE),
    "p99_lo": ("lower end of the p99's 95% interval", _WOODRUFF),
    "p99_hi": ("upper end of the p99's 95% interval", _WOODRUFF),
    "p999": ("99.9th percentile", _QUANTILE),
    "max": ("exact largest sample", ""),
    "p99_rel_ci": ("half-width of the p99's 95% interval relative to the p99",
                   "(p99_hi - p99_lo) / 2 / p99; 0 when the interval is one point (also at "
                   "p99 = 0), inf when p99 = 0 but the interval is not, NaN with fewer than "
                   "two trials"),
}

#: The histogram's sparse arrays (bucket index, then the three per-bucket sums) ...
HIST_ARRAYS = (("idx", "list<int32>"), ("counts", "list<int64>"), ("yy", "list<int64>"),
               ("yn", "list<int64>"))
#: ... and its scalars (see mcsim.histogram); ``ss`` and ``sn`` are float sums.
HIST_SCALARS = (("n", "int64"), ("total", "int64"), ("vmin", "int64"), ("vmax", "int64"),
                ("nn", "int64"), ("trials", "int64"), ("overflow", "int64"),
                ("ss", "float64"), ("sn", "float64"))
HIST_DESCRIPTIONS = {
    "idx": "indices of the non-empty buckets, ascending (bucket layout: mcsim/histogram.py)",
    "counts": "samples per non-empty bucket",
    "yy": "per-bucket sum over trials behind the p99 interval (cumsum: sum of squared "
          "trial counts at or below the bucket)",
    "yn": "per-bucket sum over trials behind the p99 interval (cumsum: sum of trial counts "
          "at or below the bucket times trial sizes)",
    "n": "samples", "total": "sum of all samples", "vmin": "smallest sample",
    "vmax": "largest sample", "nn": "sum of squared trial sizes (samples per trial)",
    "trials": "trials", "overflow": "samples beyond the histogram's range",
    "ss": "sum of squared trial sums (the mean's interval)",
    "sn": "sum of trial sums times trial sizes (the mean's interval)",
}

PARAM_TYPES = {"choice": "string", "int": "int64", "prob": "float64", "rate": "float64",
               "duration": "int64", "dist": "string"}
#: Unit suffix of a parameter's column, by kind: the name a user types stays unit-free.
PARAM_SUFFIXES = {"duration": "_ns", "rate": "_per_s"}
PARAM_UNITS = {"duration": "ns", "rate": "1/s", "dist": "", "prob": "", "choice": ""}

#: What each blame kind (model.md §7.13, §11.7) stands for: the step a task holding L was
#: blocked in when an HP acquisition's wait became an inversion.
BLAME_DESCRIPTIONS = {
    "submit": "a bio submitted under L waiting for an io.latency slot",
    "io": "a fault's own read bio in flight under L",
    "locked_page": "a fault waiting under L for a page locked by another context's read",
    "pass2_read": "a retry pass re-reading the page under L",
    "mkwrite": "a slow ->page_mkwrite's own bio under L",
    "writeback": "->page_mkwrite waiting for the page's writeback under L",
    "dirty_throttle": "balance_dirty_pages() sleeping under L (before 5.5)",
    "vma_start_write": "a same-VMA writer holding L for write in vma_start_write(), waiting "
                       "for the VMA's readers (6.4+)",
}
assert tuple(BLAME_DESCRIPTIONS) == BLAME_NAMES, "a blame kind without a description"

#: What each fault kind is (model.md §2.4, §11.4).
FAULT_KIND_DESCRIPTIONS = {
    "hit": "read faults on a cached page",
    "miss": "read faults on a page not cached (sync readahead reads it)",
    "async_ra": "read faults on a cached page that start async readahead",
    "locked": "read faults on a page locked by another context's read",
    "mkwrite_fast": "write faults whose ->page_mkwrite returns at once",
    "mkwrite_slow": "write faults whose ->page_mkwrite issues its own (gated) bio",
    "mkwrite_writeback": "write faults whose ->page_mkwrite waits for writeback in flight",
}
assert tuple(FAULT_KIND_DESCRIPTIONS) == FAULT_KINDS, "a fault kind without a description"

COUNTER_DESCRIPTIONS = {
    "events": "events dispatched",
    "sim_ns": "simulated time, idle gaps included (saturates at 2**63-1, model.md §4.4)",
    "busy_ns": "simulated time the system was not empty (saturates like sim_ns)",
    "hp_reads": "HP read arrivals", "writes": "LP writer arrivals (mmap/munmap/mprotect)",
    "faults": "LP fault arrivals", "bg_bios": "background LP bio arrivals (locked-page "
    "bios excluded)",
    "lock_acquisitions": "read and write requests on L: fault passes (retry passes and "
                         "fallbacks included), writers, HP acquisitions under L",
    "bios": "bios issued to the device, all sources",
    "retries": "VM_FAULT_RETRY returns: fault passes that dropped their lock and were "
               "followed by another pass",
    "evictions": "retry-pass re-reads of a page that was not uptodate (evicted, or a "
                 "p_retry_miss miss)",
    "revalidate_fails": "failed re-validations of a kept page (rfc-v2)",
    "handoffs": "times the handoff bit (5.3+) went from clear to set",
    "reader_steals": "reads granted past a non-empty queue (5.11+)",
    "writer_steals": "newcomer writers that took a free L past a non-empty queue",
    "inversions": "HP lock acquisitions that were inversions (model.md §7.13, §11.7)",
    "fallbacks": "fault passes that found their VMA write-locked and took L for read "
                 "instead (model.md §11.2)",
    "tried_passes": "retry passes run with FAULT_FLAG_TRIED: they never drop their lock",
    "retry_misses": "retry passes that found the page not uptodate by the p_retry_miss "
                    "draw (counted in evictions too)",
    "vma_writer_waits": "same-VMA writers that waited in vma_start_write() for the VMA's "
                        "readers while holding L for write",
    "hp_fallbacks": "HP acquisitions under the per-VMA lock (cmdline-vma series) that fell "
                    "back to L for read",
    "dirty_throttles": "write faults that slept in balance_dirty_pages() (a positive dirty "
                       "throttle)",
    **{f"blame_{b}": f"inversions blamed on {what}" for b, what in BLAME_DESCRIPTIONS.items()},
    **{f"faults_{k}": what for k, what in FAULT_KIND_DESCRIPTIONS.items()},
    "max_pending_events": "largest number of pending events in any trial",
    "max_trial_events": "most events in one trial (the engine's max_trial_events counter; "
                        "the parameter of that name is the limit)",
    "buffer_growths": "doublings of the event heap, task table, lock, gate and run queues past "
                      "their initial 64 entries (model.md §4.4)",
    "steps": "closed-loop thread steps started (model.md §12.2; 0 in the open model)",
    "scans": "ps scans started by the workload's threads",
    **{f"thread_iterations_{k}": f"program iterations completed by thread {k} of the "
       "workload (thread_names[" + str(k) + "]) whose first step was counted; 0 past the "
       "workload's threads" for k in range(N_THREAD_COUNTERS)},
    "cpu_queued": "tasks that became runnable with no idle CPU and waited in the run queue "
                  "(model.md §14.2; 0 when cpus = 0), server contexts of io_cpu included "
                  "(§14.6)",
    "cpu_queue_ns": "those tasks' total time from runnable to running, the context switch "
                    "included (model.md §14.3)",
    "cpu_affine_queued": "of cpu_queued, the entries into a busy target CPU's run queue while "
                         "another CPU was idle (model.md §14.7; 0 when cpu_affinity = 0)",
    "cpu_pulled": "queued tasks that a freeing CPU with an empty run queue pulled from another "
                  "CPU's queue (newidle balance, model.md §14.7; 0 when cpu_affinity = 0)",
    "timers_coalesced": "closed-loop threads' timers fired early by another timer's firing on "
                        "their CPU, past their expiry (model.md §14.8; 0 when timer_slack = 0)",
    "wakees_remote": "later wakees of one timer firing that took an idle CPU after a "
                     "wake_remote draw (model.md §14.8; 0 when timer_slack = 0)",
}
COUNTER_UNITS = {"sim_ns": "ns", "busy_ns": "ns", "max_pending_events": "events",
                 "buffer_growths": "doublings",
                 "max_trial_events": "events", "events": "events", "steps": "steps",
                 "scans": "scans", "cpu_queued": "tasks", "cpu_queue_ns": "ns",
                 "cpu_affine_queued": "tasks", "cpu_pulled": "tasks",
                 "timers_coalesced": "timers", "wakees_remote": "tasks",
                 **{f"thread_iterations_{k}": "iterations" for k in range(N_THREAD_COUNTERS)}}


@dataclass(frozen=True)
class Column:
    name: str
    type: str         # string, int64, float64, bool, list<int32>, list<int64>, list<string>,
                      # list<float64>
    group: str        # parameter, run, workload, counter, statistic, histogram, provenance
    unit: str = ""    # ns, 1/s, s, passes, trials, ... ("" for none)
    description: str = ""


def param_column(name: str) -> str:
    """The result column of parameter ``name``: its name plus the unit of its values."""
    return name + PARAM_SUFFIXES.get(PARAM_BY_NAME[name].kind, "")


def param_name(column_name: str) -> str | None:
    """The parameter whose column is ``column_name`` (None if it is no parameter's)."""
    return _PARAM_OF_COLUMN.get(column_name)


def param_values(values: Mapping) -> dict:
    """Parameter values keyed by column name (``{"wake": 0}`` -> ``{"wake_ns": 0}``), for
    results and JSON; pass canonical values (:meth:`mcsim.params.Config.public`).

    >>> param_values({"wake": 20000, "hp_rate": 200.0, "policy": "hold"})
    {'wake_ns': 20000, 'hp_rate_per_s': 200.0, 'policy': 'hold'}
    """
    return {param_column(name): value for name, value in values.items()}


_PARAM_OF_COLUMN = {param_column(p.name): p.name for p in PARAMS}


def stat_column(metric: str, stat: str) -> str:
    """Column name of one statistic of one metric: ``<metric>_<stat>[_ns]``."""
    kind = dict(STATS)[stat]
    suffix = "_ns" if kind == "value" and METRIC_UNITS[metric] == "ns" else ""
    return f"{metric}_{stat}{suffix}"


def counter_column(counter: str) -> str:
    """Column of an engine counter: its own name, with ``_seen`` added where a parameter
    has the same name (``max_trial_events`` is both the limit and the largest trial seen)."""
    return f"{counter}_seen" if counter in PARAM_BY_NAME else counter


RUN_COLUMNS = (
    Column("lp_depth", "int64", "parameter", "bios", "derived: LP bios in flight, "
           "max(1, 128 >> throttle_depth)"),
    Column("point_key", "string", "run", "", "16 hex digits: sha256 of the point's "
           "identity (parameters, seed, trials, precision target, max_trials, mcsim "
           "version); also the file name"),
    Column("seed", "int64", "run", "", "random seed; a sweep uses one seed for every point "
           "(common random numbers)"),
    Column("trials", "int64", "run", "trials", "trials actually simulated (regenerative "
           "cycles, model.md §4, or windows, §12.3: trial_kind)"),
    Column("p99_rel_ci_target", "float64", "run", "", "precision target --p99-rel-ci on "
           "hp_wait_p99_rel_ci, null without one"),
    Column("max_trials", "int64", "run", "trials", "cap on trials under a precision target, "
           "null without one"),
    Column("p99_rel_ci_met", "bool", "run", "", "whether hp_wait_p99_rel_ci <= the target "
           "(false: stopped at max_trials, or the interval is NaN), null without a target"),
    Column("source", "string", "run", "", "simulated (mcsim's engines) or measured (a kernel "
           "trace read by mcsim trace import: parameters null, the kernel in the file's "
           "metadata; docs/traces.md)"),
)

#: The workload a row simulated (model.md §12), after the run settings.  ``open`` is the
#: open model of §1-§11 (no workload file).
WORKLOAD_COLUMNS = (
    Column("workload", "string", "workload", "", "the workload's name (sweeps/workloads/, "
           "`mcsim workloads`); `open` for the open model without a workload"),
    Column("workload_hash", "string", "workload", "", "16 hex digits: sha256 of the "
           "workload's canonical text (in the file metadata, mcsim.workloads), variables "
           "resolved; empty without a workload"),
    Column("workload_vars", "string", "workload", "", "the workload's variables as "
           "canonical JSON (sorted keys), e.g. {\"n\":4}; `{}` without any: sweep axes "
           "over them differ here"),
    Column("trial_kind", "string", "workload", "", "how trials were cut: `cycle` "
           "(regenerative cycles, model.md §4) or `window` (a warm-up then a counted window, "
           "§12.3)"),
    Column("thread_names", "list<string>", "workload", "", "the workload's closed-loop "
           "threads in counter order: thread k is thread_iterations_<k>; empty for the open "
           "model"),
    Column("thread_throughput_per_s", "list<float64>", "workload", "1/s", "each thread's "
           "loop throughput, aligned with thread_names: thread_iterations_<k> / sim_ns * "
           "1e9, iterations per simulated second of window (what a reproducer reports)"),
)


def _param_columns() -> list[Column]:
    out = []
    for p in PARAMS:
        unit = PARAM_UNITS.get(p.kind, p.unit)
        what = "parameter " + p.name + (", a distribution as text" if p.kind == "dist"
                                        else "")
        out.append(Column(param_column(p.name), PARAM_TYPES[p.kind], "parameter", unit,
                          f"{p.help} ({what})"))
    return out


def _metric_columns() -> list[Column]:
    out = []
    for m in METRICS:
        for stat, kind in STATS:
            typ = "int64" if kind == "count" else "float64"
            unit = METRIC_UNITS[m] if kind == "value" else ""
            label, detail = STAT_DESCRIPTIONS[stat]
            out.append(Column(stat_column(m, stat), typ, "statistic", unit,
                              f"{label} of {m} ({METRIC_DESCRIPTIONS[m]})"
                              + (f"; {detail}" if detail else "")))
    for m in METRICS:
        for k, t in HIST_ARRAYS + HIST_SCALARS:
            unit = METRIC_UNITS[m] if k in ("total", "vmin", "vmax") else ""
            out.append(Column(f"{m}_hist_{k}", t, "histogram", unit,
                              f"histogram of {m}: {HIST_DESCRIPTIONS[k]}"))
    return out


@functools.cache
def _columns() -> tuple[Column, ...]:
    out = _param_columns() + list(RUN_COLUMNS) + list(WORKLOAD_COLUMNS)
    out += [Column(counter_column(c), "int64", "counter", COUNTER_UNITS.get(c, ""),
                   COUNTER_DESCRIPTIONS[c]) for c in COUNTERS if c != "trials"]
    out.append(Column("inversion_fraction", "float64", "statistic", "",
                      "inversion_wait_n / hp_acq_wait_n: the fraction of counted HP lock "
                      "acquisitions that were inversions (of HP reads, with one acquisition "
                      "per read); in cycles equal to inversions / hp_acq_wait_n"))
    out += _metric_columns()
    out.append(Column("wall_s", "float64", "provenance", "s", "wall-clock seconds the point "
                      "took (the only column that differs between two runs of the same "
                      "point)"))
    return tuple(out)


def columns() -> list[Column]:
    """Every column, in table order."""
    return list(_columns())


def column(name: str) -> Column:
    """The column called ``name`` (KeyError if there is none)."""
    return _columns_by_name()[name]


@functools.cache
def _columns_by_name() -> dict:
    return {c.name: c for c in _columns()}


def column_names() -> list[str]:
    return [c.name for c in _columns()]


def arrow_schema(metadata: dict | None = None):
    """The columns as a :class:`pyarrow.Schema` (with optional file-level metadata); each
    field carries ``description`` and ``unit`` metadata."""
    schema = _arrow_schema()
    return schema.with_metadata(metadata) if metadata else schema


@functools.cache
def _arrow_schema():
    # Built once: reading a sweep casts every one of its files to it.
    import pyarrow as pa

    types = {"string": pa.string(), "int64": pa.int64(), "float64": pa.float64(),
             "bool": pa.bool_(), "list<int32>": pa.list_(pa.int32()),
             "list<int64>": pa.list_(pa.int64()), "list<string>": pa.list_(pa.string()),
             "list<float64>": pa.list_(pa.float64())}
    fields = [pa.field(c.name, types[c.type],
                       metadata={b"description": c.description.encode(),
                                 b"unit": c.unit.encode()}) for c in _columns()]
    return pa.schema(fields)


# ---------------------------------------------------------------- docs/results.md tables
DOC_BEGIN = "<!-- generated from mcsim/schema.py: python -m mcsim.schema docs/results.md -->"
DOC_END = "<!-- end of generated tables -->"


def _md_table(cols, name=lambda c: f"`{c.name}`") -> list[str]:
    lines = ["| column | type | unit | meaning |", "|---|---|---|---|"]
    for c in cols:
        lines.append(f"| {name(c)} | {c.type} | {c.unit or '—'} | "
                     f"{c.description.replace('|', '/')} |")
    return lines


def docs_tables() -> str:
    """The column tables of docs/results.md, as Markdown."""
    cols = _columns()
    by_group = {g: [c for c in cols if c.group == g] for g in
                ("parameter", "run", "workload", "counter", "provenance")}
    generic = [c for c in cols if c.name.startswith("hp_wait_")]

    def metric_name(c):
        return "`" + c.name.replace("hp_wait_", "<metric>_", 1) + "`"

    stats = [Column(c.name, c.type, c.group, c.unit and "metric's",
                    re.sub(r" of hp_wait \(.*?\)(; |$)", r"\1", c.description))
             for c in generic if c.group == "statistic"]
    hists = [Column(c.name, c.type, c.group, c.unit and "metric's",
                    c.description.replace("histogram of hp_wait: ", ""))
             for c in generic if c.group == "histogram"]
    parts = [DOC_BEGIN, "", "### Parameters and run settings", ""]
    parts += _md_table(by_group["parameter"] + by_group["run"])
    parts += ["", "### Workload", ""]
    parts += _md_table(by_group["workload"])
    parts += ["", "### Counters (int64): the work done", ""]
    parts += _md_table(by_group["counter"] + [column("inversion_fraction")])
    parts += ["", "### Statistics, for each metric `<metric>`", ""]
    parts += [f"- `{m}`: {METRIC_DESCRIPTIONS[m]}" for m in METRICS]
    parts += ["", "Unit: the metric's (ns, or passes for `fault_passes`, whose columns end "
              "without `_ns`: `fault_passes_p99`).", ""]
    parts += _md_table(stats, metric_name)
    parts += ["", "### Histograms, for each metric `<metric>`", ""]
    parts += _md_table(hists, metric_name)
    parts += ["", "### Provenance", ""]
    parts += _md_table(by_group["provenance"])
    parts += ["", DOC_END]
    return "\n".join(parts)


def splice_docs(text: str) -> str:
    """``text`` (docs/results.md) with its generated block replaced by :func:`docs_tables`."""
    start, end = text.index(DOC_BEGIN), text.index(DOC_END) + len(DOC_END)
    return text[:start] + docs_tables() + text[end:]


if __name__ == "__main__":          # python -m mcsim.schema docs/results.md
    from pathlib import Path

    target = Path(sys.argv[1])
    target.write_text(splice_docs(target.read_text()))
