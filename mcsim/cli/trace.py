"""``mcsim trace``: record mmap_lock traces of the running kernel, import a trace into a
result row, export a simulated run as a trace (docs/traces.md).

Exit codes besides those of ``mcsim --help``: 5 when the machine lacks what a live
trace needs (root, tracefs, the mmap_lock tracepoints); the message says which and how
to get it.

>>> from mcsim.cli import main
>>> main(["trace", "export", "--format", "svg"])
2
"""
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import StorageError, UsageError
from .app import app
from .common import JsonOpt, KernelOpt, SetOneOpt, command_line, flag_values, print_json

trace_app = typer.Typer(
    name="trace", no_args_is_help=True, rich_markup_mode="markdown",
    help="mmap_lock traces: record the running kernel, import a trace as a result row "
         "(source = measured), export a simulated run as a trace (docs/traces.md).  "
         "Exit code 5: no root, no tracefs or no mmap_lock tracepoints (record).")
app.add_typer(trace_app)


@trace_app.callback()
def trace() -> None:
    """mmap_lock traces: record the running kernel, import a trace as a result row
    (source = measured), export a simulated run as a trace (docs/traces.md)."""

RECORD_EPILOG = """Examples:

  mcsim trace record -o run.trace --duration 5 -- ./target

  mcsim trace record -o run.trace --pid 4242 --pid 4243 --duration 2
"""
IMPORT_EPILOG = """Examples:

  mcsim trace import run.trace --reader hp-reader

  mcsim trace import run.trace --reader 4243 -o measured.parquet --json
"""
EXPORT_EPILOG = """Examples:

  mcsim trace export sweeps/scripts/vma-mkwrite.toml --kernel 6.18 -o mkwrite.trace

  mcsim trace export --kernel 6.18 --trials 20 --set wake=20us -o run.json
"""
#: Random runs go through the reference engine (it keeps timelines): a bound on the work.
MAX_EXPORT_TRIALS = 10_000


@trace_app.command("record", epilog=RECORD_EPILOG)
def record_cmd(
    out: Annotated[Path, typer.Option("--out", "-o", metavar="FILE", dir_okay=False,
                                      help="The trace file (tracefs text), written whole.")],
    pid: Annotated[Optional[list[int]], typer.Option(
        "--pid", metavar="PID", help="A process to trace, all its threads and children "
        "(repeat for several).")] = None,
    duration: Annotated[Optional[float], typer.Option(
        metavar="SECONDS", help="Stop after this long (and end the command if still "
        "running).")] = None,
    max_mb: Annotated[int, typer.Option(metavar="MB", min=1,
                                        help="Stop when the file reaches this size.")] = 1024,
    command: Annotated[Optional[list[str]], typer.Argument(
        metavar="[-- COMMAND ...]", help="A command to run and trace until it exits.",
        show_default=False)] = None,
) -> None:
    """Record the mmap_lock tracepoints, the HP reader's read()/pread64() syscalls, the
    writers' syscalls and sched_waking of the given processes through a private tracefs
    instance (removed at the end, also on Ctrl-C).  Needs root."""
    from ..trace.record import record

    summary = record(out, pids=pid or (), duration_s=duration, command=command or None,
                     max_bytes=max_mb << 20)
    status = summary["command_status"]
    typer.echo(f"{out}: {summary['bytes']:,} bytes in {summary['seconds']} s"
               + (f"; command exited with status {status}" if status is not None else "")
               + ("; stopped at --max-mb" if summary["truncated"] else ""))


def _read_trace(path: Path, importer) -> None:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                importer.feed(line)
    except OSError as exc:
        import os
        raise StorageError(f"{path}: cannot read: {os.strerror(exc.errno or 0)}") from None


@trace_app.command("import", epilog=IMPORT_EPILOG)
def import_cmd(
    path: Annotated[Path, typer.Argument(metavar="FILE", dir_okay=False,
                                         help="tracefs text or `trace-cmd report` output.")],
    reader: Annotated[Optional[list[str]], typer.Option(
        metavar="PID|COMM", help="The HP reader: only its read()/pread64() syscalls are HP "
        "reads (repeat for several) [default: every task's].", show_default=False)] = None,
    mm: Annotated[Optional[list[str]], typer.Option(
        metavar="MM", help="Only acquisitions of this mm= value count (repeat for "
        "several) [default: all].", show_default=False)] = None,
    slice_: Annotated[str, typer.Option(
        "--slice", metavar="DURATION", help="Trace time per trial when the trace has no "
        "mcsim-trial markers.")] = "1s",
    out: Annotated[Optional[Path], typer.Option(
        "--out", "-o", metavar="FILE.parquet", dir_okay=False,
        help="Also write the measured result row as Parquet, atomically.")] = None,
    json_output: JsonOpt = False,
) -> None:
    """Turn a kernel trace into the histograms of a simulation: the HP reader's wait per
    read and per acquisition, writer waits, hold times; unused lines are counted."""
    from ..trace.importer import TraceImporter
    from ..units import parse_duration

    slice_ns = parse_duration(slice_, "--slice")
    if slice_ns <= 0:
        raise UsageError(f"--slice: {slice_!r} is not positive; allowed: a duration > 0")
    if out is not None:
        from ..dataset import check_parquet_path
        check_parquet_path(out, "--out")
    importer = TraceImporter(readers=reader or (), mm=mm or (), slice_ns=slice_ns)
    _read_trace(path, importer)
    imp = importer.finish()
    if out is not None:
        from ..trace.measured import write_measured
        write_measured(imp, out, str(path), command=command_line())
    if json_output:
        print_json(_import_json(imp))
        return
    typer.echo(_import_text(path, imp))


def _stats(h) -> dict:
    return {"n": h.n, "p50_ns": h.quantile(0.5), "p90_ns": h.quantile(0.9),
            "p99_ns": h.quantile(0.99), "max_ns": h.max()}


def _less_runnable(imp) -> dict:
    """Each hold metric's holds less the holder's time runnable in them (a trace with
    ``sched_switch`` lines; docs/traces.md, "Time runnable in a hold"), as statistics."""
    from ..histogram import Histogram

    out = {}
    for metric, waits in imp.runnable.items():
        if waits:
            h = Histogram.empty()
            h.add_trials(imp.on_cpu_holds(metric), [len(waits)])
            out[metric] = _stats(h)
    return out


def _has_placement(imp) -> bool:
    """Whether the trace can say where woken tasks went (docs/traces.md, "Placement")."""
    return bool(imp.lines["sched_switch"] and imp.lines["sched_waking"])


def _import_json(imp) -> dict:
    from ..trace.measured import MEASURED_METRICS

    return {"trials": imp.trials, "meta": imp.meta,
            "metrics": {m: _stats(imp.hists[m]) for m in MEASURED_METRICS},
            "holds_less_runnable": _less_runnable(imp),
            "placement": imp.placement.as_dict() if _has_placement(imp) else None,
            "counters": dict(sorted(imp.counters.items())),
            "lines": dict(sorted(imp.lines.items()))}


def _import_text(path, imp) -> str:
    from ..trace.measured import MEASURED_METRICS
    from ..units import format_duration

    kernel = imp.meta.get("kernel", "unknown kernel")
    lines = [f"{path}: {kernel}, {imp.trials:,} trials, "
             f"{imp.counters.get('hp_reads', 0):,} HP reads, "
             f"{imp.counters.get('lock_acquisitions', 0):,} lock acquisitions"]
    rows = [(m, _stats(imp.hists[m])) for m in MEASURED_METRICS]
    rows += [(f"{m} less runnable", s) for m, s in _less_runnable(imp).items()]
    w = max(16, max(len(m) for m, _ in rows) + 1)
    lines.append(f"{'metric':<{w}}{'n':>8}{'p50':>10}{'p90':>10}{'p99':>10}{'max':>10}")
    for m, s in rows:
        lines.append(f"{m:<{w}}{s['n']:>8,}" + "".join(
            f"{format_duration(s[k]):>10}" for k in ("p50_ns", "p90_ns", "p99_ns", "max_ns")))
    if _has_placement(imp):
        lines.append(imp.placement.summary())
    lines.append("lines: " + ", ".join(f"{k} {v:,}" for k, v in sorted(imp.lines.items())))
    odd = {k: v for k, v in sorted(imp.counters.items())
           if v and k not in ("trials", "sim_ns", "hp_reads", "writes", "lock_acquisitions",
                              "read_acquisitions")}
    if odd:
        lines.append("noted: " + ", ".join(f"{k} {v:,}" for k, v in odd.items()))
    return "\n".join(lines)


@trace_app.command("export", epilog=EXPORT_EPILOG)
def export_cmd(
    script: Annotated[Optional[Path], typer.Argument(
        metavar="[SCRIPT.toml]", dir_okay=False,
        help="A script (as `mcsim script` takes it) [default: a random run].",
        show_default=False)] = None,
    out: Annotated[Path, typer.Option("--out", "-o", metavar="FILE", dir_okay=False,
                                      help="Where to write: tracefs text, or Perfetto JSON "
                                      "for a .json name.")] = Path("-"),
    fmt: Annotated[Optional[str], typer.Option(
        "--format", metavar="text|perfetto", help="Output format [default: perfetto for "
        "a .json file, else text].", show_default=False)] = None,
    kernel: KernelOpt = None,
    set_values: SetOneOpt = None,
    trials: Annotated[int, typer.Option(metavar="N", min=1, max=MAX_EXPORT_TRIALS,
                                        help="Trials of a random run.")] = 20,
    seed: Annotated[int, typer.Option(metavar="N", min=0, help="Seed of a random run "
                                      "(block 0, as `mcsim run --engine reference`).")] = 0,
) -> None:
    """Write a simulated run as tracefs-format mmap_lock events (what `mcsim trace import`
    reads back exactly) or as a Perfetto / Chrome trace-event timeline."""
    fmt = fmt or ("perfetto" if out.suffix == ".json" else "text")
    if fmt not in ("text", "perfetto"):
        raise UsageError(f"--format: {fmt!r} is not a format; allowed: text, perfetto")
    values = flag_values(set_values, kernel=kernel)
    trial_list, label = _simulated(script, values, trials, seed)
    text = _render(trial_list, fmt, label)
    if str(out) == "-":
        typer.echo(text, nl=False)
        return
    from ..dataset import write_table_atomic
    write_table_atomic(text.encode(), out, writer=lambda data, f: f.write(data))


def _simulated(script, values, trials, seed):
    from ..params import validate
    from ..trace.timeline import run_script_trial, simulate_trials

    if script is not None:
        from .script import read_script, script_runs
        _description, file_params, tasks = read_script(script)
        run = script_runs(file_params, values)[0]
        cfg = validate(run)
        _result, trial = run_script_trial(tasks, run)
        return [trial], f"script={script.name} kernel={cfg['kernel']}"
    params = {name: vals[0] for name, vals in values.items()}
    cfg = validate(params)
    _raw, trial_list = simulate_trials(params, trials=trials, seed=seed)
    return trial_list, f"kernel={cfg['kernel']} seed={seed}"


def _render(trial_list, fmt: str, label: str) -> str:
    from ..trace import export

    if fmt == "perfetto":
        import json
        return json.dumps(export.perfetto_json(trial_list), separators=(",", ":")) + "\n"
    meta = dict(item.split("=", 1) for item in label.split())
    return "\n".join(export.tracefs_lines(trial_list, meta)) + "\n"
