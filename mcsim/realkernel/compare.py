"""Measured versus predicted for one reproducer run and its controls (``mcsim repro``).

Each run is recorded and imported (:mod:`.traced`); the model then simulates the same
workload on the preset of the running kernel at its HZ, once as the run describes it and,
with controls, once more with the constants measured on the controls
(:mod:`.calibrate`): the no-writer run at the same D and the wake-up probe.  The runs
being predicted never feed the constants.
"""
from __future__ import annotations

import json
import os
import platform
from dataclasses import dataclass, field

from .prereq import Missing, PrerequisiteError
from .sidebyside import kernel_preset, predict, simulated_rates, summary
from .spec import RunSpec


def running_kernel_hz(read_config=None) -> int:
    """``CONFIG_HZ`` of the running kernel from its config (``/proc/config.gz`` or
    ``/boot/config-<release>``).  ``getconf CLK_TCK`` is no substitute: it is USER_HZ,
    the unit of times in /proc (100 on x86 whatever HZ is), not the tick rate.

    >>> running_kernel_hz(lambda: "250")
    250
    >>> running_kernel_hz(lambda: "")
    Traceback (most recent call last):
    ...
    mcsim.realkernel.prereq.PrerequisiteError: real-kernel run: missing the kernel's HZ (CONFIG_HZ in /proc/config.gz or /boot/config-<release>): modprobe configs (for /proc/config.gz), or give --hz N (getconf CLK_TCK is USER_HZ, not HZ)
    """
    if read_config is None:
        from ..trace.record import kernel_hz as read_config
    text = read_config()
    if not text.isdigit():
        raise PrerequisiteError([Missing(
            "the kernel's HZ (CONFIG_HZ in /proc/config.gz or /boot/config-<release>)",
            "modprobe configs (for /proc/config.gz), or give --hz N (getconf CLK_TCK is "
            "USER_HZ, not HZ)")])
    return int(text)


def control_specs(spec: RunSpec) -> list[RunSpec]:
    """The controls of a run: no writer and a writer on another VMA at the same D, the
    run's writer without slow IO (D = 0), and neither (no writer at D = 0, which
    calibrates the device at D = 0); the run itself is left out, each control once.

    >>> [(s.writer, s.delay) for s in control_specs(RunSpec(delay="20ms", writer="same"))]
    [('none', '20ms'), ('other', '20ms'), ('same', '0'), ('none', '0')]
    >>> [(s.writer, s.delay) for s in control_specs(RunSpec(delay="0", writer="same"))]
    [('none', '0'), ('other', '0')]
    """
    out = [RunSpec(**{**_fields(spec), "writer": w}) for w in ("none", "other")]
    out += [RunSpec(**{**_fields(spec), "delay": "0", "writer": w})
            for w in (spec.writer, "none")]
    unique = []
    for s in out:
        if s != spec and s not in unique:
            unique.append(s)
    return unique


def _fields(spec: RunSpec) -> dict:
    from dataclasses import asdict
    return asdict(spec)


def label(spec: RunSpec) -> str:
    """A run's name in the table.

    >>> label(RunSpec(path="mkwrite", delay="5ms", writer="other"))
    'mkwrite D=5ms writer=other'
    """
    return f"{spec.path} D={spec.delay} writer={spec.writer}"


@dataclass
class Compared:
    """The rows of one run: (role, summary, result row) with role "measured", "model"
    or "model, calibrated"."""

    spec: RunSpec
    rows: list = field(default_factory=list)


def measure(spec: RunSpec, keep_trace=None):
    """One recorded run → (summary, measured result row, Traced)."""
    from ..trace.measured import measured_row
    from .traced import run_traced

    traced = run_traced(spec, keep_trace=keep_trace)
    row = measured_row(traced.imported)
    return summary(row, traced.run.rates()), row, traced


def think_times(specs) -> list[int]:
    """The distinct think times (ns, > 0) of the runs' loops.

    >>> think_times([RunSpec(fault_think="1ms", reader_think="2ms")])
    [1000000, 2000000]
    """
    from ..units import parse_duration
    return sorted({parse_duration(getattr(s, name)) for s in specs
                   for name in ("fault_think", "writer_think", "reader_think")} - {0})


def machine_cpus() -> int:
    """The CPUs this process may run on (its affinity mask), what the reproducer's
    threads share.

    >>> machine_cpus() >= 1
    True
    """
    return len(os.sched_getaffinity(0))


def compare(spec: RunSpec, *, controls: bool = False, hz: int | None = None,
            kernel: str | None = None, trials: int = 4, seed: int = 1,
            engine: str = "compiled", keep_trace=None, say=lambda text: None,
            cpus: int | None = None):
    """Run, record and predict ``spec`` (and its controls): a list of :class:`Compared`
    and the calibration (None without controls).  ``say`` gets progress lines.  The
    calibrated model runs on ``cpus`` CPUs (docs/model.md §14; None: this machine's,
    0: a CPU per task)."""
    from ..errors import ParameterError

    release = platform.release()
    preset = kernel or kernel_preset(release)
    if preset is None:
        raise ParameterError("kernel", release, "a kernel with a model preset (6.18), or "
                             "--kernel PRESET", "has no model preset")
    hz = hz or running_kernel_hz()
    specs = [spec] + (control_specs(spec) if controls else [])
    measured = {}
    for s in specs:
        say(f"running {label(s)} for {s.duration} ...")
        measured[s] = measure(s, keep_trace if s is spec else None)
    calibration = calibrate(spec, specs, measured, cpus, say) if controls else None
    out = []
    for s in specs:
        summ, row, traced = measured[s]
        c = Compared(s, [("measured", summ, row)])
        res = predict(s, hz, {"kernel": preset}, trials, seed, engine)
        c.rows.append(("model", summary(res.row(), simulated_rates(res.row())), res.row()))
        if calibration is not None:
            extra = {"kernel": preset, **calibration.params(s.delay_ns)}
            res = predict(s, hz, extra, trials, seed, engine, thinks=calibration.thinks(),
                          lead=calibration.lead())
            c.rows.append(("model, calibrated", summary(res.row(), simulated_rates(res.row())), res.row()))
        out.append(c)
    return out, calibration


def calibrate(spec: RunSpec, specs, measured: dict, cpus: int | None, say):
    """The calibration of ``spec`` from its controls' measurements (``measured``: spec →
    what :func:`measure` returned) and the probes, run now (docs/realkernel.md,
    "Calibration"): the no-writer control at the run's D (its IO, the reader's hold, the
    fault loop's work before each fault, the FUSE server's CPU per request), the no-writer
    control at D = 0, the writer-elsewhere control, and the no-writer controls' placement
    of woken tasks (``cpu_affinity``); ``cpus`` as in :func:`compare`."""
    from .calibrate import from_control
    from .runner import measure_wakeup, timer_slack_ns

    quiet = next(s for s in specs if s.writer == "none" and s.delay_ns == spec.delay_ns)
    fast = next((s for s in specs if s.writer == "none" and s.delay_ns == 0), None)
    other = next((s for s in specs if s.writer == "other"), None)
    say("measuring the wake-up latency (idle CPU, then busy CPU) ...")
    wake = measure_wakeup(2000)
    ncpu = machine_cpus() if cpus is None else int(cpus)
    switch = measure_wakeup(2000, pinned=True) if ncpu > 0 else None
    two = ncpu > 1 and machine_cpus() > 1
    if two:
        say("measuring the wake-up onto another, idle CPU ...")
    remote = measure_wakeup(2000, cross=True) if two else None
    slack = timer_slack_ns()
    say("measuring how long the think times sleep ...")
    sleeps = {ns: measure_wakeup(2000, gap=f"{ns}ns", sleep=True) for ns in think_times(specs)}

    def lock_hold(s):
        """retry: the TRIED pass's READ as mmap_lock(R) sees it (calibrate.py), less the
        faulting thread's time runnable in the hold: the model draws that itself."""
        if spec.path != "retry" or s is None:
            return None
        return measured[s][2].imported.on_cpu_holds("hold_fault")

    io_as = (": the faults' holds of mmap_lock(R) less their time runnable"
             if spec.path == "retry" else "")
    placement, placed_from = pooled_placement(measured, [quiet, fast])
    return from_control(
        measured[quiet][2].run.fault_ns, spec.path, spec.delay_ns, wake,
        f"the controls {label(quiet)} (IO overhead{io_as}, reader hold, lead, server CPU)"
        + (f", {label(fast)} (IO at D = 0{io_as})" if fast else "")
        + (f", {label(other)} (writer hold)" if other else "")
        + f", the wake-up and sleep probes; {ncpu} CPUs; "
        + (f"timer slack {slack} ns (this process's, inherited by the reproducer); "
           if slack is not None else "")
        + (placement_source(placement, placed_from) if ncpu > 0
           else "no CPU model: cpu_affinity unused"),
        hp_hold=measured[quiet][2].imported.hists["hold_hp"],
        writer_hold=measured[other][2].imported.hists["hold_writer"] if other else None,
        fast_fault_ns=measured[fast][2].run.fault_ns if fast else None,
        switch_ns=switch, cpus=ncpu, sleeps=sleeps,
        lock_hold=lock_hold(quiet), fast_lock_hold=lock_hold(fast),
        lead_ns=measured[quiet][2].run.lead_ns,
        fast_lead_ns=measured[fast][2].run.lead_ns if fast else None,
        server_cpu_ns=measured[quiet][2].run.server_cpu_ns,
        placement=placement if ncpu > 0 else None, remote_ns=remote,
        timer_slack_ns=slack)


def pooled_placement(measured: dict, specs) -> tuple:
    """The placement counts of the given controls' traces added up, and the controls'
    labels (those that ran).  Only controls without a writer: no lock hand-off there
    depends on the run's writer, and they are the quiet runs the other constants come
    from; the run being predicted never counts."""
    from ..trace.placement import Placement

    ran = [s for s in specs if s is not None and s in measured]
    return (Placement.pooled(measured[s][2].imported.placement for s in ran),
            [label(s) for s in ran])


def placement_source(placement, labels) -> str:
    """Where ``cpu_affinity`` came from, or why it stayed at 0, in words.

    >>> from mcsim.trace.placement import Placement
    >>> p = Placement(); p.by_kind["task"].update(choices=30, stayed=27)
    >>> placement_source(p, ["retry D=5ms writer=none"])
    'cpu_affinity 0.900 from retry D=5ms writer=none (27 of 30 choices stayed)'
    >>> placement_source(Placement(), ["retry D=5ms writer=none"])
    'cpu_affinity left at 0: 0 choices in retry D=5ms writer=none, fewer than 20'
    """
    from .calibrate import MIN_PLACEMENT_CHOICES

    where = ", ".join(labels)
    if placement.choices < MIN_PLACEMENT_CHOICES:
        return (f"cpu_affinity left at 0: {placement.choices} choices in {where}, fewer "
                f"than {MIN_PLACEMENT_CHOICES}")
    return (f"cpu_affinity {placement.affinity:.3f} from {where} ({placement.stayed} of "
            f"{placement.choices} choices stayed)")


def write_rows(compared, out, command: str, calibration=None) -> None:
    """Every row (measured and predicted, runs and controls) to one Parquet file,
    atomically; ``mcsim.repro_rows`` (JSON) names each row's run and role."""
    import pyarrow as pa

    from .. import schema
    from ..dataset import file_metadata, write_table_atomic

    rows, names = [], []
    for c in compared:
        for role, _summary, row in c.rows:
            rows.append(row)
            names.append({"run": label(c.spec), "role": role, "path": c.spec.path,
                          "delay": str(c.spec.delay), "writer": c.spec.writer,
                          "duration": str(c.spec.duration)})
    meta = {"repro_rows": json.dumps(names), "trace_kernel": platform.release(),
            "trace_machine": platform.machine(), "source": "measured+simulated"}
    if calibration is not None:
        from dataclasses import asdict
        meta["repro_calibration"] = json.dumps(asdict(calibration))
    table = pa.Table.from_pylist(rows, schema=schema.arrow_schema(file_metadata(
        command=command, **meta)))
    write_table_atomic(table, os.fspath(out))
