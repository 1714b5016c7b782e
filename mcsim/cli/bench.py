"""``mcsim bench``: measure the engine against its peers (see docs/benchmarks.md)."""
from pathlib import Path
from typing import Annotated, Optional

import typer

from .app import app
from .common import JsonOpt, print_json


@app.command()
def bench(
    full: Annotated[bool, typer.Option(
        "--full", help="Longer runs, 7 repeats and the memory series (minutes); the "
        "default quick mode takes about 20 s.")] = False,
    out: Annotated[Optional[Path], typer.Option(
        "--out", metavar="FILE", help="Also write the results table: FILE.parquet, or "
        "FILE.arrow (.feather, .ipc) for Arrow IPC.", dir_okay=False)] = None,
    impl: Annotated[Optional[list[str]], typer.Option(
        "--impl", help="Only these implementations: compiled, compiled-parallel, "
        "python-reference, simpy (repeatable).")] = None,
    scenario: Annotated[Optional[list[str]], typer.Option(
        "--scenario", help="Only these scenarios of mcsim/benchmarks/scenarios.py: "
        "reference, throttled, writer-heavy, kernel-6.18, kernel-6.18-patched, "
        "workload-mkwrite-vs-mprotect, workload-mkwrite-vs-mprotect-2cpus; with "
        "--instructions also mm1-writers "
        "(repeatable).")] = None,
    instructions: Annotated[bool, typer.Option(
        "--instructions", help="Count the compiled core's instructions per event with "
        "callgrind instead (needs valgrind; ~1 min per scenario; the same on a busy "
        "machine).")] = False,
    json_output: JsonOpt = False,
) -> None:
    """Benchmark the compiled core against the pure-Python reference and SimPy on the same
    model: events/s, ns/event, trials/s and peak memory (median of >= 5 runs).

    With --json: one document with the environment, every measurement (times in ns:
    median_ns, min_ns, max_ns, sim_ns, ns_per_event; rates: events_per_s, trials_per_s)
    and the targets; progress lines go to stderr.

    Examples: `mcsim bench` · `mcsim bench --full --out bench.parquet` ·
    `mcsim bench --impl compiled --impl simpy` · `mcsim bench --impl compiled
    --scenario reference --json` · `mcsim bench --instructions --scenario reference`
    """
    from ..bench import IMPLEMENTATIONS, run_benchmarks, to_document
    from ..benchmarks.scenarios import SCENARIOS
    from ..errors import McsimError, UsageError

    if instructions:
        _instructions(scenario, json_output)
        return
    try:
        _check_names("--impl", impl, IMPLEMENTATIONS, "an implementation")
        _check_names("--scenario", scenario, SCENARIOS, "a scenario")
        table = run_benchmarks("full" if full else "quick", out=out, implementations=impl,
                               scenarios=scenario, echo=None if json_output else typer.echo)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    except (RuntimeError, FileNotFoundError) as exc:    # a measurement process failed
        raise McsimError(str(exc).strip().splitlines()[0]) from None
    if json_output:
        print_json(to_document(table))


def _instructions(scenario, json_output: bool) -> None:
    from .. import callgrind
    from ..benchmarks.scenarios import INSTRUCTION_SCENARIOS as catalogue

    _check_names("--scenario", scenario, catalogue, "a scenario")
    chosen = {name: spec for name, spec in catalogue.items()
              if not scenario or name in scenario}
    rows = callgrind.run(chosen, echo=None if json_output else typer.echo)
    if json_output:
        print_json({"instructions": rows})


def _check_names(option: str, given, known, what: str) -> None:
    from ..errors import UsageError

    for name in given or ():
        if name not in known:
            raise UsageError(f"{option}: {name!r} is not {what}; allowed: "
                             + ", ".join(known))
