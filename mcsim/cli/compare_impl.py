"""The work of ``mcsim compare`` (:mod:`mcsim.cli.compare` declares its options): run or
read the compared rows, and print them side by side.  Cells show a value and, for each row
after the first, its difference to the first with a 95% interval:

>>> cell({"value": 9000.0, "lo": 0.0, "hi": 20000.0, "diff": -6.6e7, "diff_lo": -7e7,
...       "diff_hi": -6.2e7})
'9 µs\\nΔ -66 ms [-70, -62] ms'
"""
from pathlib import Path

from ..errors import UsageError
from .common import (build_spec, command_line, flag_values, print_json, progress_bar,
                     show_progress, stdout_console, var_values, workload_set_values)


def cell(stat: dict) -> str:
    """A value, and under it the difference to the baseline with its interval."""
    from .render import format_duration, format_interval

    text = format_duration(stat["value"])
    if stat.get("diff") is not None:
        sign = "+" if stat["diff"] > 0 else ""
        text += (f"\nΔ {sign}{format_duration(stat['diff'])} "
                 f"{format_interval(stat['diff_lo'], stat['diff_hi'])}")
    return text


def compare(*, kernel, policy, era, workload, var, throttle_depth, writer_ratio, set_values,
            trials, seed, p99_rel_ci, max_trials, config, source, plot_file, json_output,
            quiet) -> None:
    """The work of ``mcsim compare`` (:func:`mcsim.cli.compare.compare`)."""
    from ..compare import comparison

    if plot_file is not None:
        from .report import figure_format

        figure_format(plot_file)
    axis = "kernel" if kernel is not None else "policy"
    if kernel is not None and policy is not None:
        raise UsageError("--policy: given with --kernel; allowed: --kernel NAMES or --policy "
                         "NAMES (a kernel preset sets the policy)")
    set_values, set_vars = workload_set_values(set_values, workload, config)
    values = flag_values(set_values, kernel=kernel, policy=policy or (
        None if kernel is not None else "all"), era=era, throttle_depth=throttle_depth,
        writer_ratio=writer_ratio)
    compared = values[axis]
    twice = sorted({p for p in compared if compared.count(p) > 1})
    if twice:
        raise UsageError(f"--{axis}: {twice[0]!r} is given twice; allowed: each {axis} "
                         "once (the first is the baseline)")
    variables = var_values((var or []) + set_vars)
    if source is not None:
        rows = _read_rows(source, values, axis, _workload_selection(workload, variables))
    else:
        spec = build_spec(config, values, allow_grid=True, workload=workload,
                          variables=variables, trials=trials, seed=seed,
                          p99_rel_ci=p99_rel_ci, max_trials=max_trials)
        rows = _simulate(spec, len(compared), axis, quiet)
    data = comparison(rows)
    if plot_file is not None:
        from ..plot import ccdf
        from .report_impl import save_figure

        save_figure(ccdf(rows), plot_file)
    if json_output:
        print_json({"config": _config(rows[0], axis), "compared": axis,
                    "kernels" if axis == "kernel" else "policies": data,
                    "plot": str(plot_file) if plot_file else None})
        return
    _print(rows, data, plot_file, axis)


def _simulate(spec, ncompared: int, axis: str, quiet: bool) -> list[dict]:
    from ..points import default_workers, simulate_point

    points = spec.points(command=command_line())
    if len(points) != ncompared:
        noun = "kernels" if axis == "kernel" else "policies"
        raise UsageError(f"compare takes one configuration, but the options give "
                         f"{len(points)} points for {ncompared} {noun}; allowed: one "
                         f"value per parameter besides --{axis} (mcsim sweep for grids)")
    rows = []
    total = sum(p.trials for p in points) if spec.p99_rel_ci is None else None
    with progress_bar("simulating", total, "trials", enabled=show_progress(quiet)) as bar:
        for point in points:
            rows.append(simulate_point(point, workers=default_workers(),
                                       progress=bar.advance).row())
    return rows


def _workload_selection(workload: str | None, variables: dict) -> dict:
    """The workload columns rows read ``--from`` must have (``--workload``, ``--var``):
    the loaded workload's hash, which its variables change."""
    if workload is None:
        if variables:
            raise UsageError("--var: no workload to set it in; allowed: with --workload")
        return {}
    from ..workload import load_workload

    if any(len(v) != 1 for v in variables.values()):
        raise UsageError("--var: several values; allowed: one value per variable")
    wl = load_workload(workload, vars={k: v[0] for k, v in variables.items()} or None)
    return {"workload_hash": wl.hash}


def _read_rows(source: Path, values: dict, axis: str = "policy",
               selection: dict | None = None) -> list[dict]:
    """One row of ``source`` per compared policy or kernel, the other options selecting
    it (a kernel's policy and era are the preset's, so they select nothing), and
    ``selection`` (column -> value) too."""
    import mcsim

    from ..params import validate
    from ..plot import axes_of, rows_of
    from ..schema import param_column

    compared = values.pop(axis)
    rows = rows_of(mcsim.load(source))
    rows = [r for r in rows if all(r.get(k) == v for k, v in (selection or {}).items())]
    for name, vals in values.items():
        if len(vals) != 1:
            raise UsageError(f"{name}: {len(vals)} values; allowed: one value per parameter "
                             f"besides --{axis}")
        canonical = validate({name: vals[0]}).public()[name]
        rows = [r for r in rows if r[param_column(name)] == canonical]
    picked = []
    for value in compared:
        mine = [r for r in rows if r[axis] == value]
        if len(mine) != 1:
            others = [a for a in axes_of(mine) if a != axis] or ["none"]
            what = "no row" if not mine else f"{len(mine)} rows (they differ in " \
                f"{', '.join(others)}; select one with --set NAME=VALUE)"
            raise UsageError(f"--from: {source} has {what} for {axis} {value}; allowed: "
                             f"options that select one row per {axis}")
        picked.append(mine[0])
    return picked


def _config(row: dict, axis: str = "policy") -> dict:
    """The parameters the compared rows share (the compared axis, and for kernels the
    policy and era they set, left out)."""
    from ..params import PARAMS
    from ..schema import param_column

    left_out = {axis} | ({"policy", "era"} if axis == "kernel" else set())
    return {param_column(p.name): row[param_column(p.name)] for p in PARAMS
            if p.name not in left_out}


def _set_elsewhere(rows, shown) -> list[str]:
    """Columns of the other parameters the rows share at a value other than the default
    (what ``--set`` or a file changed), so the header states the whole configuration."""
    from ..params import PARAMS, validate
    from ..schema import param_column

    defaults = validate().public()
    out = []
    for p in PARAMS:
        column = param_column(p.name)
        if p.name in ("kernel", "policy", "era", *shown) or column not in rows[0]:
            continue
        value = rows[0][column]
        if value != defaults[p.name] and all(r.get(column) == value for r in rows):
            out.append(column)
    return out


def _print(rows, data, plot_file, axis: str = "policy") -> None:
    from rich.table import Table

    from ..compare import row_label
    from ..plot import axes_of, label
    from ..result import count
    from .render import fold_name

    console = stdout_console()
    shared = ("throttle_depth", "writer_ratio") if axis == "kernel" else \
        ("era", "throttle_depth", "writer_ratio")
    fixed = [c for c in shared if c not in axes_of(rows)] + _set_elsewhere(rows, shared)
    if rows[0].get("workload", "open") != "open":
        console.print(f"workload {rows[0]['workload']} {rows[0]['workload_vars']} "
                      f"({rows[0]['trial_kind']} trials)")
    console.print(f"{label(rows[0], fixed)}; {count(rows[0]['trials'], 'trial')}, seed "
                  f"{rows[0]['seed']}; Δ: difference to {row_label(rows[0])} with its 95% "
                  "interval")
    table = Table(show_lines=True)
    table.add_column("statistic")
    for d in data:
        table.add_column(fold_name(d["label"]), justify="right")
    table.add_row("inversions", *(
        "-" if d["hp_reads"] == 0 else f"{d['inversion_fraction']:.2%}" for d in data))
    for name in data[0]["statistics"]:
        table.add_row(name, *(cell(d["statistics"][name]) for d in data))
    console.print(table)
    for d in data:
        console.print(f"{d['label']}: {d['verdict']}")
    console.print(blame_table(data, axis))
    if axis == "kernel":
        console.print(paths_table(data))
    if plot_file is not None:
        console.print(f"wrote {plot_file}")


def blame_table(data: list[dict], axis: str = "policy"):
    """Inversions by blamed step, one line per compared row; kinds that no row blames are
    left out (the caption names them), so the table fits a terminal."""
    from rich.table import Table

    from ..policies import BLAME_NAMES
    from .render import fold_name

    kinds = [b for b in BLAME_NAMES if any(d["blame"][b] for d in data)]
    never = [b for b in BLAME_NAMES if b not in kinds]
    blame = Table(title=f"inversions by blamed step (share of the {axis}'s inversions)",
                  title_justify="left", caption=f"never blamed here: {', '.join(never)}"
                  if never else None, caption_justify="left")
    blame.add_column(axis, no_wrap=True)
    for b in kinds:
        blame.add_column(b, justify="right")
    for d in data:
        total = d["inversions"]
        blame.add_row(fold_name(d["label"]), *(
            f"{d['blame'][b]:,}" + (f" ({d['blame'][b] / total:.0%})" if total else "")
            for b in kinds))
    return blame


def paths_table(data: list[dict]):
    """How often each kernel path ran (per 1,000 faults, writes or HP reads)."""
    from rich.table import Table

    from ..compare import PATH_COUNTERS
    from .render import _cell_number, fold_name

    table = Table(title="kernel paths, per 1,000 faults (writes, HP reads)",
                  title_justify="left")
    table.add_column("kernel", no_wrap=True)
    headers = {"fallbacks": "fallbacks", "tried_passes": "TRIED\npasses",
               "retry_misses": "retry\nmisses", "vma_writer_waits": "vma_start\n_write\n"
               "waits /w", "hp_fallbacks": "HP\nfallbacks\n/r", "dirty_throttles": "dirty\n"
               "throttles"}
    for counter, _, _ in PATH_COUNTERS:
        table.add_column(headers[counter], justify="right")
    for d in data:
        table.add_row(fold_name(d["label"]), *(_cell_number(d["paths_per_1000"][c])
                                               for c, _, _ in PATH_COUNTERS))
    return table
