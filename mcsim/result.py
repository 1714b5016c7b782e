"""Result objects: statistics of one simulated configuration, and of one script.

A :class:`Result` holds the merged histograms (exact, mergeable) and counters of a run and
derives every statistic from them: quantiles, their cluster-robust intervals, means, rates.
``to_arrow()`` gives one row with a column for every parameter, every statistic and the
sparse histograms themselves, so rows from different runs or shards can be merged exactly.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from . import layout as lay
from .histogram import Histogram
from .policies import BLAME_NAMES
from .units import Dist, format_duration

HEADLINE = ("hp_wait", "inversion_wait", "lp_fault_latency", "writer_wait", "gate_wait")
HIST_SCALARS = ("n", "total", "vmin", "vmax", "nn", "trials", "overflow", "ss", "sn")


@dataclass
class Result:
    """What :func:`mcsim.simulate` returns.

    ``result["hp_wait"]`` is the :class:`~mcsim.histogram.Histogram` of a metric (values
    in ns); ``result.counters`` the work done; ``result.config`` the full configuration.
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

    def __getitem__(self, metric: str) -> Histogram:
        return self.hists[metric]

    @property
    def hp_wait(self) -> Histogram:
        return self.hists["hp_wait"]

    @property
    def inversion_fraction(self) -> float:
        """Fraction of HP reads whose wait was an inversion (model.md §7.13)."""
        n = self.hists["hp_wait"].n
        return self.counters["inversions"] / n if n else float("nan")

    @property
    def events_per_s(self) -> float:
        return self.counters["events"] / self.wall_s if self.wall_s > 0 else float("nan")

    def blame(self) -> dict:
        """Inversions per blamed step."""
        return {b: self.counters[f"blame_{b}"] for b in BLAME_NAMES}

    def summary(self) -> dict:
        """Every statistic as a flat dict (times in ns, keys ``<metric>_<stat>``)."""
        out = {}
        for name, hist in self.hists.items():
            out.update(hist.summary(name))
        out["inversion_fraction"] = self.inversion_fraction
        out.update(self.counters)
        return out

    def row(self) -> dict:
        """One flat record: parameters, provenance, counters, statistics, histograms."""
        row = {name: (str(v) if isinstance(v, Dist) else v) for name, v in self.config.items()}
        row["lp_depth"] = self.config.lp_depth if hasattr(self.config, "lp_depth") else None
        row.update(seed=self.seed, trials=self.trials, engine=self.engine,
                   workers=self.workers, wall_s=self.wall_s)
        row.update(self.summary())
        for name, hist in self.hists.items():
            sparse = hist.to_sparse()
            for key, values in sparse.items():
                if key in ("idx", "counts", "yy", "yn"):
                    row[f"{name}_hist_{key}"] = [int(x) for x in values]
            scalars = hist.scalars()
            for key in HIST_SCALARS:
                row[f"{name}_hist_{key}"] = scalars[key]
        return row

    def to_arrow(self):
        """The result as a one-row :class:`pyarrow.Table` (see docs/results.md)."""
        import pyarrow as pa

        return pa.Table.from_pylist([self.row()])

    def format(self) -> str:
        """A short human summary."""
        h = self.hists["hp_wait"]
        lo, hi = h.quantile_ci(0.99)
        lines = [
            f"policy {self.config['policy']}, era {self.config['era']}, throttle_depth "
            f"{self.config['throttle_depth']}, writer_ratio {self.config['writer_ratio']}: "
            f"{self.trials:,} trials, {self.counters['events']:,} events",
            f"hp_wait   p50 {format_duration(h.quantile(0.5))}  p99 "
            f"{format_duration(h.quantile(0.99))} [{format_duration(lo)}, "
            f"{format_duration(hi)}]  p99.9 {format_duration(h.quantile(0.999))}  max "
            f"{format_duration(h.max())}  (n={h.n:,})",
            f"inversions {self.counters['inversions']:,} ({self.inversion_fraction:.3%} of "
            f"HP reads)",
        ]
        for name in ("lp_fault_latency", "writer_wait"):
            m = self.hists[name]
            lines.append(f"{name:<17} p50 {format_duration(m.quantile(0.5))}  p99 "
                         f"{format_duration(m.quantile(0.99))}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        h = self.hists["hp_wait"]
        return (f"<Result {self.config['policy']} throttle_depth="
                f"{self.config['throttle_depth']} trials={self.trials} hp_wait p99="
                f"{format_duration(h.quantile(0.99))}>")


@dataclass
class ScriptTask:
    """One scripted task's outcome: its L waits (ns) and when it finished."""

    index: int
    kind: str
    waits: list
    done: int


@dataclass
class ScriptResult:
    """What :func:`mcsim.run_script` returns: per-task waits and the timeline."""

    policy: str
    tasks: list
    timeline: list          # (task, lane, start_ns, end_ns)

    def hp_waits(self) -> list:
        return [w for t in self.tasks if t.kind == "hp_read" for w in t.waits]

    def format(self, width: int = 60) -> str:
        """Lanes per task: ``w`` waiting for L, ``H`` holding L, ``g`` at the IO gate,
        ``i`` in IO (own bio or a locked page).  Holding wins over the others."""
        end = max([iv[3] for iv in self.timeline] + [1])
        scale = end / width
        symbol = {lay.LANE_WAIT: "w", lay.LANE_GATE: "g", lay.LANE_IO: "i", lay.LANE_HOLD: "H"}
        order = (lay.LANE_IO, lay.LANE_GATE, lay.LANE_WAIT, lay.LANE_HOLD)
        lines = [f"policy {self.policy}: 0 .. {format_duration(end)}, one column = "
                 f"{format_duration(scale)}"]
        for task in self.tasks:
            cells = [" "] * width
            for lane in order:
                for (t, ln, a, b) in self.timeline:
                    if t == task.index and ln == lane:
                        lo, hi = int(a / scale), max(int(a / scale) + 1, int(b / scale))
                        for c in range(lo, min(hi, width)):
                            cells[c] = symbol[lane]
            waits = ", ".join(format_duration(w) for w in task.waits) or "-"
            lines.append(f"{task.index:>2} {task.kind:<8}|{''.join(cells)}| waits {waits}")
        return "\n".join(lines)
