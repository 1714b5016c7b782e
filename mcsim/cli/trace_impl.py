"""The work of ``mcsim trace record``, ``import`` and ``export`` (:mod:`mcsim.cli.trace`
declares their options).  A trace's statistics, as ``import`` prints them:

>>> from mcsim.histogram import Histogram
>>> h = Histogram.empty()
>>> h.add_trials([1000, 2000, 3000], [3])
>>> _stats(h)["n"], _stats(h)["max_ns"]
(3, 3000.0)
"""
from pathlib import Path

import typer

from ..errors import StorageError, UsageError
from .common import command_line, flag_values, print_json


def record_cmd(*, out, pid, duration, max_mb, command) -> None:
    """The work of ``mcsim record_cmd`` (:func:`mcsim.cli.trace.record_cmd`)."""
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


def import_cmd(*, path, reader, mm, slice_, out, json_output) -> None:
    """The work of ``mcsim import_cmd`` (:func:`mcsim.cli.trace.import_cmd`)."""
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


def export_cmd(*, script, out, fmt, kernel, set_values, trials, seed) -> None:
    """The work of ``mcsim export_cmd`` (:func:`mcsim.cli.trace.export_cmd`)."""
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
