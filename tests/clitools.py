"""Helpers for the command-line tests: run ``mcsim`` in-process or as a subprocess, and
compare result tables."""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

from mcsim.cli import main

REPO = Path(__file__).resolve().parent.parent
SWEEPS = REPO / "sweeps"

#: Columns that may differ between two runs of the same points.
PROVENANCE_COLUMNS = ("wall_s",)


def cli(capsys, *args) -> tuple[int, str, str]:
    """Run ``mcsim ARGS`` in this process; return (exit code, stdout, stderr)."""
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def cli_json(capsys, *args):
    code, out, err = cli(capsys, *args, "--json")
    assert code == 0, err
    return json.loads(out)


def mcsim_process(*args, **popen_kwargs) -> subprocess.Popen:
    """``python -m mcsim ARGS`` as a subprocess (stdout and stderr piped)."""
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.Popen([sys.executable, "-m", "mcsim", *map(str, args)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            **popen_kwargs)


def comparable_rows(table) -> list[dict]:
    """Rows without provenance, NaN as None (NaN != NaN), sorted by point key."""
    rows = table.drop_columns(list(PROVENANCE_COLUMNS)).to_pylist()
    for row in rows:
        for key, value in row.items():
            if isinstance(value, float) and math.isnan(value):
                row[key] = None
    return sorted(rows, key=lambda r: r["point_key"])


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def write_points(out, grid, trials, seed):
    """A sweep directory written in this process (no worker pool): one point per entry
    of ``grid`` (dicts of parameters)."""
    from mcsim.points import PointSpec, run_point

    for params in grid:
        run_point(PointSpec.make(params, trials=trials, seed=seed,
                                 command="mcsim sweep (test)"), out)
    return out
