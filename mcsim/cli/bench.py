"""``mcsim bench``: measure the engine against its peers (see docs/benchmarks.md)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .app import app


@app.command()
def bench(
    full: Annotated[bool, typer.Option(
        "--full", help="Longer runs, 7 repeats and the memory series (minutes); the "
        "default quick mode takes about 20 s.")] = False,
    out: Annotated[Optional[Path], typer.Option(
        "--out", help="Also write the results table (.parquet, or .arrow for Arrow IPC).")]
    = None,
    impl: Annotated[Optional[list[str]], typer.Option(
        "--impl", help="Only these implementations: compiled, compiled-parallel, "
        "python-reference, simpy (repeatable).")] = None,
) -> None:
    """Benchmark the compiled core against the pure-Python reference and SimPy on the same
    model: events/s, ns/event, trials/s and peak memory (median of >= 5 runs).

    Examples: `mcsim bench` · `mcsim bench --full --out bench.parquet` ·
    `mcsim bench --impl compiled --impl simpy`
    """
    from ..bench import run_benchmarks
    from ..errors import UsageError

    try:
        run_benchmarks("full" if full else "quick", out=out, implementations=impl,
                       echo=typer.echo)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
