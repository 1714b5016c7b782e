"""Instructions per event of the compiled core, counted by callgrind: a speed figure that
does not depend on how busy the machine is.

Events per second move by ±10% on a shared VM; the number of instructions the core
executes per simulated event does not move at all.  :func:`instructions_per_event` runs
one scenario twice under ``valgrind --tool=callgrind`` in a fresh process — a short run
and a long one with the same seed — and divides the difference in instructions by the
difference in events.  The difference cancels Python's start-up, the imports and the
per-run set-up, leaving what the core spends per event (with the per-block Python work
spread over the events of its block, as in a real run).

``mcsim bench --instructions`` prints this for every benchmark scenario; it needs
``valgrind`` (Debian: ``apt-get install valgrind``) and takes about a minute per scenario.

>>> parse_total("events: Ir\\nsummary: 123456\\n")
123456
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .errors import McsimError

#: Trials of the short and the long run of each scenario (one block and four blocks).
SHORT_TRIALS, LONG_TRIALS = 1 << 16, 5 << 16
SEED = 1

_CHILD = """
import json, sys
import mcsim
extra = {{"workload": sys.argv[3]}} if len(sys.argv) > 3 else {{}}
res = mcsim.simulate(json.loads(sys.argv[1]), trials=int(sys.argv[2]), seed={seed}, workers=1,
                     **extra)
print(json.dumps({{"events": res.counters["events"]}}))
"""


def valgrind() -> str | None:
    """The ``valgrind`` executable, or None when it is not installed."""
    return shutil.which("valgrind")


def parse_total(text: str) -> int:
    """The total instruction count (``summary:`` or ``totals:`` line) of a callgrind
    output file."""
    match = re.search(r"^(?:summary|totals):\s*(\d+)", text, re.MULTILINE)
    if match is None:
        raise McsimError("callgrind wrote no instruction total; allowed: valgrind >= 3.15")
    return int(match.group(1))


def count(params: dict, trials: int, workload: str | None = None) -> tuple[int, int]:
    """(instructions, events) of one run of ``trials`` trials under callgrind
    (``workload``: a ready workload's name, or None for the open model)."""
    tool = valgrind()
    if tool is None:
        raise McsimError("--instructions: valgrind is not installed; allowed: install it "
                         "(Debian: apt-get install valgrind)")
    with tempfile.TemporaryDirectory(prefix="mcsim-callgrind-") as tmp:
        out = Path(tmp) / "callgrind.out"
        env = dict(os.environ, PYTHONMALLOC="malloc")    # valgrind-friendly allocator
        proc = subprocess.run(
            [tool, "--tool=callgrind", f"--callgrind-out-file={out}", "--dump-instr=no",
             sys.executable, "-c", _CHILD.format(seed=SEED), json.dumps(params), str(trials),
             *([workload] if workload else [])],
            capture_output=True, text=True, env=env, check=False)
        if proc.returncode != 0 or not out.exists():
            tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise McsimError(f"callgrind run failed ({tail})")
        events = json.loads(proc.stdout.strip().splitlines()[-1])["events"]
        return parse_total(out.read_text()), events


def instructions_per_event(params: dict, workload: str | None = None,
                           trials: tuple[int, int] = (SHORT_TRIALS, LONG_TRIALS)) -> dict:
    """Instructions per event of one scenario (the long run minus the short one):
    ``trials`` of the two runs; a workload's window trials are long, so its scenario
    gives fewer."""
    ir_short, ev_short = count(params, trials[0], workload)
    ir_long, ev_long = count(params, trials[1], workload)
    return {"instructions_per_event": (ir_long - ir_short) / (ev_long - ev_short),
            "events": ev_long - ev_short, "instructions": ir_long - ir_short}


def run(scenarios: dict, echo=print) -> list[dict]:
    """Instructions per event of each ``{name: {"params": ...}}`` scenario, in order."""
    rows = []
    for name, spec in scenarios.items():
        row = {"scenario": name, **instructions_per_event(
            spec["params"], spec.get("workload"),
            spec.get("instruction_trials", (SHORT_TRIALS, LONG_TRIALS)))}
        rows.append(row)
        if echo:
            echo(f"{name:14s} {row['instructions_per_event']:8.1f} instructions/event "
                 f"({row['events']:,} events counted)")
    return rows
