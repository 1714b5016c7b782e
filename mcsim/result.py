"""Result objects: statistics of one simulated configuration, and of one script.

A :class:`Result` holds the merged histograms (exact, mergeable) and counters of a run and
derives every statistic from them: quantiles, their cluster-robust intervals, means, rates.
``row()`` / ``to_arrow()`` give one record with the columns of :mod:`mcsim.schema`: every
parameter, every statistic and the sparse histograms themselves, so rows from different
runs or shards can be merged exactly (docs/results.md).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from . import layout as lay
from .histogram import Histogram
from .params import NO_KERNEL
from .policies import BLAME_NAMES
from .units import format_duration

HEADLINE = ("hp_wait", "inversion_wait", "lp_fault_latency", "writer_wait", "gate_wait")


def headline(config) -> tuple[str, ...]:
    """The metrics ``mcsim run`` shows for a configuration: :data:`HEADLINE`, plus, under
    a kernel preset, each HP acquisition's wait where a read makes several and the
    writers' wait in vma_start_write() where writers take VMA locks.

    >>> headline({"kernel": "none"}) == HEADLINE, headline({"kernel": "6.18"})[-2:]
    (True, ('hp_acq_wait', 'vma_writer_wait'))
    """
    from .kernels import KERNELS

    kernel = KERNELS.get(config.get("kernel", NO_KERNEL))
    if kernel is None:
        return HEADLINE
    return HEADLINE + (("hp_acq_wait",) if kernel.hp_acquisitions > 1 else ()) \
        + (("vma_writer_wait",) if kernel.vma_writers else ())

#: Keys of ``Result.extra`` that become run columns (None when absent).
RUN_EXTRAS = ("point_key", "p99_rel_ci_target", "max_trials", "p99_rel_ci_met")

#: The ``workload`` column of the open model (no workload file), and the trial kinds.
OPEN_WORKLOAD = "open"
TRIAL_CYCLE, TRIAL_WINDOW = "cycle", "window"
#: File-level metadata key holding ``{workload_hash: canonical text}`` of a file's rows.
WORKLOADS_METADATA_KEY = "mcsim.workloads"


def thread_throughputs(counters: dict, n_threads: int) -> list:
    """Iterations per simulated second of threads ``0 … n_threads-1``:
    ``thread_iterations_<k> / sim_ns * 1e9`` (model.md §12.4); NaN when ``sim_ns`` is 0.

    >>> thread_throughputs({"sim_ns": 2_000_000_000, "thread_iterations_0": 500,
    ...                     "thread_iterations_1": 3}, 2)
    [250.0, 1.5]
    """
    sim_ns = counters["sim_ns"]
    return [counters[f"thread_iterations_{k}"] * 1e9 / sim_ns if sim_ns else math.nan
            for k in range(n_threads)]


def workload_columns(workload, counters: dict) -> dict:
    """The workload columns (:data:`mcsim.schema.WORKLOAD_COLUMNS`) of a result.

    >>> workload_columns(None, {"sim_ns": 0})["workload"]
    'open'
    """
    import json

    if workload is None:
        return {"workload": OPEN_WORKLOAD, "workload_hash": "", "workload_vars": "{}",
                "trial_kind": TRIAL_CYCLE, "thread_names": [],
                "thread_throughput_per_s": []}
    names = list(workload.thread_names)
    return {"workload": workload.name, "workload_hash": workload.hash,
            "workload_vars": json.dumps(dict(workload.vars), sort_keys=True,
                                        separators=(",", ":")),
            "trial_kind": workload.trial_kind, "thread_names": names,
            "thread_throughput_per_s": thread_throughputs(counters, len(names))}


def workload_metadata(workloads) -> dict:
    """File-level metadata naming the workloads of a file's rows: ``mcsim.workloads``, a
    JSON object of ``{hash: canonical text}`` (empty dict: none but the open model)."""
    import json

    known = {w.hash: w.canonical for w in workloads if w is not None}
    return {WORKLOADS_METADATA_KEY: json.dumps(known, sort_keys=True)} if known else {}


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` with thousands separators and the noun in agreement.

    >>> count(1, "trial"), count(2_000_000, "trial"), count(0, "point")
    ('1 trial', '2,000,000 trials', '0 points')
    """
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def p99_rel_ci(hist: Histogram) -> float:
    """Half-width of the p99's 95% interval relative to the p99: 0 when the interval is a
    single point (also at p99 = 0), inf when p99 = 0 but the interval is not, NaN with
    fewer than two trials or no samples.  A NaN never meets a precision target:
    :func:`precision_met`.

    >>> h = Histogram.from_trials(list(range(1000)), [1] * 1000)
    >>> round(p99_rel_ci(h), 4), p99_rel_ci(Histogram.from_trials([0] * 50, [1] * 50))
    (0.0056, 0.0)
    """
    p99 = hist.quantile(0.99)
    lo, hi = hist.quantile_ci(0.99)
    if math.isnan(lo) or math.isnan(p99):
        return math.nan
    half = (hi - lo) / 2
    if half == 0:
        return 0.0
    return half / p99 if p99 > 0 else math.inf


def precision_met(rel_ci: float | None, target: float | None) -> bool | None:
    """Whether a relative interval ``rel_ci`` meets the precision ``target`` (None without a
    target).  An unknown interval (NaN: no samples or one trial, or None) is not met: no
    data must never read as precise enough.

    >>> precision_met(0.01, 0.02), precision_met(float("nan"), 0.02), precision_met(0.0, None)
    (True, False, None)
    """
    if target is None:
        return None
    return rel_ci is not None and not math.isnan(rel_ci) and rel_ci <= target


def metric_stats(metric: str, hist: Histogram) -> dict:
    """The statistic columns of one metric (see :data:`mcsim.schema.STATS`)."""
    from . import schema

    values = hist.summary()
    values["p99_rel_ci"] = p99_rel_ci(hist)
    return {schema.stat_column(metric, stat): values[stat] for stat, _ in schema.STATS}


def histogram_columns(metric: str, hist: Histogram) -> dict:
    """The sparse histogram of one metric as columns ``<metric>_hist_*``."""
    from . import schema

    sparse = hist.to_sparse()
    sparse["idx"] = sparse.pop("bucket")
    out = {f"{metric}_hist_{k}": [int(x) for x in sparse[k]] for k, _ in schema.HIST_ARRAYS}
    out.update({f"{metric}_hist_{k}": sparse[k] for k, _ in schema.HIST_SCALARS})
    return out


@dataclass
class Result:
    """What :func:`mcsim.simulate` returns.

    ``result["hp_wait"]`` is the :class:`~mcsim.histogram.Histogram` of a metric (values
    in ns); ``result.counters`` the work done; ``result.config`` the full configuration;
    ``result.workload`` the :class:`mcsim.workload.Workload` simulated (None: the open
    model of docs/model.md §1-§11).
    """

    config: dict
    seed: int
    trials: int
    counters: dict
    hists: dict
    wall_s: float = 0.0
    workers: int = 1
    engine: str = "compiled"
    extra: dict = field(default_factory=dict)
    workload: object = None

    def __post_init__(self):
        # mcsim.points.simulate_point hands the workload over in ``extra``.
        if self.workload is None:
            self.workload = self.extra.get("workload")

    @property
    def trial_kind(self) -> str:
        """``"cycle"`` (regenerative cycles, model.md §4) or ``"window"`` (a warm-up and a
        counted window, §12.3): how this result's trials were cut."""
        kind = self.extra.get("trial_kind")
        if kind is not None:
            return kind
        return TRIAL_CYCLE if self.workload is None else self.workload.trial_kind

    @property
    def workload_name(self) -> str:
        """The workload's name, ``"open"`` for the open model."""
        return OPEN_WORKLOAD if self.workload is None else self.workload.name

    def thread_throughput(self) -> list:
        """``(name, rate)`` of each closed-loop thread, in counter order: its counted
        iterations per simulated second of window (model.md §12.4), as a reproducer
        reports its loop rate.  Empty for the open model; NaN without simulated time."""
        names = [] if self.workload is None else list(self.workload.thread_names)
        return list(zip(names, thread_throughputs(self.counters, len(names))))

    def __getitem__(self, metric: str) -> Histogram:
        return self.hists[metric]

    @property
    def hp_wait(self) -> Histogram:
        return self.hists["hp_wait"]

    @property
    def inversion_fraction(self) -> float:
        """Fraction of HP lock acquisitions whose wait was an inversion (model.md §7.13,
        §11.5): of HP reads, when a read makes one acquisition (every ``kernel=none``
        configuration).

        Both counts are samples (``inversion_wait`` and ``hp_acq_wait`` each take one per
        counted acquisition), so a window trial's warm-up counts in neither: the counter
        ``inversions`` counts the whole trial (§12.3).  In regenerative cycles every task is
        counted and the two ways agree exactly.

        >>> import mcsim
        >>> r = mcsim.simulate(trials=2000, seed=1, engine="reference")
        >>> r.inversion_fraction == r.counters["inversions"] / r["hp_acq_wait"].n
        True
        """
        n = self.hists["hp_acq_wait"].n
        return self.hists["inversion_wait"].n / n if n else float("nan")

    @property
    def events_per_s(self) -> float:
        return self.counters["events"] / self.wall_s if self.wall_s > 0 else float("nan")

    def blame(self) -> dict:
        """Inversions per blamed step (model.md §7.13, §11.7), every kind, in order."""
        return {b: self.counters[f"blame_{b}"] for b in BLAME_NAMES}

    def summary(self) -> dict:
        """Every statistic and counter as a flat dict keyed by its result column, so the
        unit is in the name (``hp_wait_p99_ns``, ``sim_ns``, ``fault_passes_p99``).

        >>> import mcsim
        >>> s = mcsim.simulate(trials=200, seed=1).summary()
        >>> s["trials"], "hp_wait_p99_ns" in s, "hp_wait_p99" in s
        (200, True, False)
        """
        from . import schema

        row = self.row()
        return {"trials": self.trials,
                **{c.name: row[c.name] for c in schema.columns()
                   if c.group in ("counter", "statistic")}}

    def row(self) -> dict:
        """One flat record with the columns of :func:`mcsim.schema.columns`, in order:
        parameters (named with their unit: ``wake_ns``), run identity, counters,
        statistics, histograms, wall time."""
        from . import schema

        row = schema.param_values(self.config.public())
        row["lp_depth"] = self.config.lp_depth
        row.update(seed=self.seed, trials=self.trials)
        row.update({key: self.extra.get(key) for key in RUN_EXTRAS})
        row.update(workload_columns(self.workload, self.counters))
        row["trial_kind"] = self.trial_kind
        row.update({schema.counter_column(c): v for c, v in self.counters.items()
                    if c != "trials"})
        row["inversion_fraction"] = self.inversion_fraction
        for name in lay.METRICS:
            row.update(metric_stats(name, self.hists[name]))
        # Derived from the data, so a NaN interval is never recorded as met.
        row["p99_rel_ci_met"] = precision_met(row["hp_wait_p99_rel_ci"],
                                              row["p99_rel_ci_target"])
        for name in lay.METRICS:
            row.update(histogram_columns(name, self.hists[name]))
        row["wall_s"] = self.wall_s
        row["source"] = self.extra.get("source", "simulated")
        return {name: row[name] for name in schema.column_names()}

    def plot(self, metric: str = "hp_wait"):
        """The CCDF of ``metric`` on log-log axes, as a matplotlib Figure
        (:func:`mcsim.plot.ccdf` of this one row).

        >>> import mcsim
        >>> fig = mcsim.simulate(policy="hold", throttle_depth=7, trials=2000, seed=1).plot()
        >>> fig.axes[0].get_yscale()
        'log'
        """
        from .plot import ccdf

        return ccdf([self.row()], metric=metric)

    def to_arrow(self, metadata: dict | None = None):
        """The result as a one-row :class:`pyarrow.Table` (docs/results.md); ``metadata``
        becomes the file-level key/value metadata when the table is written to Parquet."""
        import pyarrow as pa

        from . import schema

        metadata = {**(metadata or {}), **workload_metadata([self.workload])} or None
        return pa.Table.from_pylist([self.row()], schema=schema.arrow_schema(metadata))

    def format(self) -> str:
        """A short human summary."""
        h = self.hists["hp_wait"]
        lo, hi = h.quantile_ci(0.99)
        lines = [
            f"{configuration_label(self.config)}, throttle_depth "
            f"{self.config['throttle_depth']}, writer_ratio {self.config['writer_ratio']}: "
            f"{count(self.trials, 'trial')}, {count(self.counters['events'], 'event')}",
            f"hp_wait   p50 {format_duration(h.quantile(0.5))}  p99 "
            f"{format_duration(h.quantile(0.99))} [{format_duration(lo)}, "
            f"{format_duration(hi)}]  p99.9 {format_duration(h.quantile(0.999))}  max "
            f"{format_duration(h.max())}  (n={h.n:,})",
            f"inversions {self.hists['inversion_wait'].n:,} ({self.inversion_fraction:.3%} of "
            f"{acquisitions_noun(self.config)})",
        ]
        for name in ("lp_fault_latency", "writer_wait") + (
                ("scan_time", "scan_wait") if self.hists["scan_time"].n else ()):
            m = self.hists[name]
            lines.append(f"{name:<17} p50 {format_duration(m.quantile(0.5))}  p99 "
                         f"{format_duration(m.quantile(0.99))}")
        if self.workload is not None:
            rates = ", ".join(f"{n} {r:,.1f}/s" for n, r in self.thread_throughput())
            lines.insert(0, f"workload {self.workload.name} ({self.trial_kind} trials)"
                         + (f": {rates}" if rates else ""))
        return "\n".join(lines)

    def __repr__(self) -> str:
        h = self.hists["hp_wait"]
        name = self.config["policy"] if self.config.get("kernel", NO_KERNEL) == NO_KERNEL \
            else f"kernel={self.config['kernel']}"
        if self.workload is not None:
            name = f"workload={self.workload.name} {name}"
        return (f"<Result {name} throttle_depth="
                f"{self.config['throttle_depth']} trials={self.trials} hp_wait p99="
                f"{format_duration(h.quantile(0.99))}>")


def configuration_label(config) -> str:
    """``policy stock-4.19, era 4.x`` (the 2018 model) or ``kernel 6.18 (era 5.11+)``.

    >>> configuration_label({"kernel": "none", "policy": "hold", "era": "4.x"})
    'policy hold, era 4.x'
    >>> configuration_label({"kernel": "6.18", "policy": "upstream-5.1", "era": "5.11+"})
    'kernel 6.18 (era 5.11+)'
    """
    if config.get("kernel", NO_KERNEL) == NO_KERNEL:
        return f"policy {config['policy']}, era {config['era']}"
    return f"kernel {config['kernel']} (era {config['era']})"


def acquisitions_noun(config) -> str:
    """What :attr:`Result.inversion_fraction` is a share of: ``HP reads`` when a read
    makes one lock acquisition, ``HP lock acquisitions`` otherwise.

    >>> acquisitions_noun({"kernel": "none"}), acquisitions_noun({"kernel": "6.18"})
    ('HP reads', 'HP lock acquisitions')
    """
    from .kernels import KERNELS

    kernel = KERNELS.get(config.get("kernel", NO_KERNEL))
    return "HP reads" if kernel is None or kernel.hp_acquisitions == 1 \
        else "HP lock acquisitions"


@dataclass
class ScriptTask:
    """One scripted task's outcome: its L waits (ns) and when it finished."""

    index: int
    kind: str
    waits: list
    done: int


@dataclass
class ScriptResult:
    """What :func:`mcsim.run_script` returns: per-task waits and the timeline.

    ``kernel`` is the preset the script ran under (``"none"``: the 2018 model, named by
    ``policy``); :attr:`label` names the run either way.
    """

    policy: str
    tasks: list
    timeline: list          # (task, lane, start_ns, end_ns)
    kernel: str = NO_KERNEL

    @property
    def label(self) -> str:
        """The kernel preset's name, or the policy's without one."""
        return self.policy if self.kernel == NO_KERNEL else self.kernel

    def hp_waits(self) -> list:
        """Every HP lock acquisition's wait (ns), task by task: a read under a kernel
        whose reads make two acquisitions contributes two."""
        return [w for t in self.tasks if t.kind == "hp_read" for w in t.waits]

    def hp_read_waits(self) -> list:
        """Each HP read's wait (ns): the sum of its acquisitions' waits, what a ``ps`` user
        feels (model.md §11.5).

        >>> ScriptResult("hold", [ScriptTask(0, "hp_read", [5, 7], 20),
        ...                       ScriptTask(1, "writer", [3], 9)], []).hp_read_waits()
        [12]
        """
        return [sum(t.waits) for t in self.tasks if t.kind == "hp_read"]

    def format(self, width: int = 60) -> str:
        """The waits and a timeline: one row per task, one column per time step.

        ``w`` waiting for L, ``H`` holding L, ``G``/``I`` at the IO gate/in IO *while
        holding L* (the inversion), ``g``/``i`` at the gate/in IO without L.  The column
        width is a round 1-2-5 step chosen so the run fits in ``width`` columns.

        >>> r = ScriptResult("hold", [ScriptTask(0, "writer", [0], 300),
        ...                           ScriptTask(1, "hp_read", [200], 310)],
        ...                  [(0, lay.LANE_HOLD, 0, 300), (1, lay.LANE_WAIT, 100, 300),
        ...                   (1, lay.LANE_HOLD, 300, 310)])
        >>> print(r.format(width=40))
        policy hold: 0 .. 310 ns, one column = 10 ns
                    0         100 ns    200 ns    300 ns
         0 writer  |HHHHHHHHHHHHHHHHHHHHHHHHHHHHHH | waits 0
         1 hp_read |          wwwwwwwwwwwwwwwwwwwwH| waits 200 ns
        w waiting for L, H holding L, G/I at the IO gate/in IO holding L, g/i without L
        """
        end = max([iv[3] for iv in self.timeline] + [1])
        scale = _round_step(end / width)
        ncols = -(-end // scale)                 # ceil: the last column holds `end`
        ruler = "".join(f"{format_duration(c * scale):<10}" for c in range(0, ncols, 10))
        what = "policy" if self.kernel == NO_KERNEL else "kernel"
        lines = [f"{what} {self.label}: 0 .. {format_duration(end)}, one column = "
                 f"{format_duration(scale)}", " " * 12 + ruler.rstrip()]
        for task in self.tasks:
            lanes = [set() for _ in range(ncols)]
            for (t, lane, a, b) in self.timeline:
                if t == task.index and b > a:
                    for c in range(a // scale, min(max(a // scale + 1, -(-b // scale)),
                                                   ncols)):
                        lanes[c].add(lane)
            cells = "".join(_lane_symbol(cell) for cell in lanes)
            waits = ", ".join(format_duration(w) for w in task.waits) or "-"
            lines.append(f"{task.index:>2} {task.kind:<8}|{cells}| waits {waits}")
        lines.append("w waiting for L, H holding L, G/I at the IO gate/in IO holding L, "
                     "g/i without L")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """Plain data (times in ns): the kernel and policy, each task's waits and the
        timeline."""
        return {"kernel": self.kernel, "policy": self.policy,
                "hp_read_waits_ns": self.hp_read_waits(),
                "tasks": [{"index": t.index, "kind": t.kind, "waits_ns": list(t.waits),
                           "done_ns": t.done} for t in self.tasks],
                "timeline": [{"task": t, "lane": lay.LANES[lane], "start_ns": a, "end_ns": b}
                             for (t, lane, a, b) in self.timeline]}


def _round_step(raw: float) -> int:
    """The smallest 1-2-5 step (ns) at least ``raw``: 168 µs -> 200 µs."""
    step = 1
    while step * 10 <= raw:
        step *= 10
    return next(step * k for k in (1, 2, 5, 10) if step * k >= raw)


def _lane_symbol(lanes: set) -> str:
    if lay.LANE_HOLD in lanes:
        return "G" if lay.LANE_GATE in lanes else "I" if lay.LANE_IO in lanes else "H"
    for lane, symbol in ((lay.LANE_WAIT, "w"), (lay.LANE_GATE, "g"), (lay.LANE_IO, "i")):
        if lane in lanes:
            return symbol
    return " "
