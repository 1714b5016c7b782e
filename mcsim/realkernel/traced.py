"""One reproducer run recorded as an mmap_lock trace and imported as a measured row.

The run happens in a child process that the trace recorder starts and follows
(``mcsim.trace.record``: a private tracefs instance, filtered to that child and
everything it starts), so the FUSE server, the target and the reader are traced from
their first event and nothing else of the machine is.  The importer then keeps the
reader's ``pread()`` syscalls (its pid) and the target's ``mm`` only: the mm is the one
the reader's lock requests name, since a ``/proc/<pid>/cmdline`` read takes the target's
lock.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .runner import ReproError, RunResult, run
from .spec import RunSpec

#: Run in the traced child: ``python -c CHILD ROOT SPEC.json OUT.npz WORKDIR``.
CHILD = ("import sys; sys.path.insert(0, sys.argv[1]); "
         "from mcsim.realkernel.traced import child_main; sys.exit(child_main(sys.argv[2:]))")
#: Beyond the run's own duration, how long the recording may go on before it is cut.
GRACE_S = 60.0


@dataclass
class Traced:
    """A run's own measurements (``run``), its imported trace (``imported``, an
    :class:`mcsim.trace.importer.Imported`) and the target's ``mm`` the import kept."""

    run: RunResult
    imported: object
    mm: str
    trace_bytes: int


def child_main(argv: list[str]) -> int:
    """The traced child: run the spec of ``argv[0]`` (JSON) in ``argv[2]`` and save the
    result to ``argv[1]``; an error goes to ``argv[2]/error.txt`` as one line."""
    spec_json, out, workdir = argv
    try:
        res = run(RunSpec(**json.loads(Path(spec_json).read_text())), workdir=workdir)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:            # the parent reports it as one line
        Path(workdir, "error.txt").write_text(f"{exc}".splitlines()[0] if str(exc) else
                                              type(exc).__name__)
        return 1
    np.savez(out, read_ns=res.read_ns, fault_ns=res.fault_ns, writer_ns=res.writer_ns,
             lead_ns=res.lead_ns, server_cpu_ns=res.server_cpu_ns,
             elapsed=np.array([res.target_elapsed_s, res.reader_elapsed_s]),
             pids=json.dumps(res.pids))
    return 0


def target_mm(lines, reader_pid: int) -> str:
    """The ``mm`` the reader's lock requests name most: the target's (a ``cmdline`` read
    locks the target's mm; the reader's own mm appears only at its start).

    >>> target_mm(["r-7 [000] ..... 1.000000: mmap_lock_start_locking: mm=00000000beef memcg_id=0 write=false",
    ...            "x-8 [000] ..... 1.000001: mmap_lock_start_locking: mm=00000000f00d memcg_id=0 write=false"], 7)
    '00000000beef'
    """
    from ..trace.parse import parse_line

    seen = Counter()
    for line in lines:
        if "mmap_lock_start_locking" not in line:
            continue
        ev = parse_line(line)
        if ev.pid == reader_pid and "mm" in ev.fields:
            seen[ev.fields["mm"]] += 1
    if not seen:
        raise ReproError(f"the trace holds no lock request of the reader (pid {reader_pid})")
    return seen.most_common(1)[0][0]


def _unmount_below(directory: str) -> None:
    """Lazily unmount anything still mounted below ``directory`` (the child's cleanup
    unmounts it; this is the guard should the child have been killed first)."""
    with open("/proc/self/mountinfo") as f:
        points = [line.split()[4] for line in f]
    for point in points:
        if point.startswith(directory.rstrip("/") + "/"):
            for cmd in (["fusermount3", "-u", "-z", point], ["umount", "-l", point]):
                if shutil.which(cmd[0]) and subprocess.run(
                        cmd, capture_output=True, timeout=30).returncode == 0:
                    break


def run_traced(spec: RunSpec, keep_trace: str | Path | None = None) -> Traced:
    """Run ``spec`` with its trace recorded, import the trace, and return both.  Needs
    root, /dev/fuse, tracefs, a C compiler and the libfuse3 headers.  ``keep_trace``
    keeps the recorded trace there (else it is removed with the run's directory).

    >>> t = run_traced(RunSpec(path="retry", delay="5ms", duration="1s"))  # doctest: +SKIP
    >>> t.imported.hists["hp_wait"].n > 0                                # doctest: +SKIP
    True
    """
    from ..trace.importer import import_lines
    from ..trace.record import record
    from .build import build_reproducer
    from .prereq import require

    require(tracefs=True)
    build_reproducer()                 # here, so that a build error is said by this process
    root = str(Path(__file__).resolve().parents[2])
    tmp = tempfile.mkdtemp(prefix="mcsim-repro-traced-")
    try:
        spec_json, out, trace = (os.path.join(tmp, n) for n in ("spec.json", "run.npz", "run.trace"))
        Path(spec_json).write_text(json.dumps(asdict(spec)))
        summary = record(trace, command=[sys.executable, "-c", CHILD, root, spec_json, out, tmp],
                         duration_s=spec.duration_ns / 1e9 + GRACE_S)
        status = summary["command_status"]
        if status != 0 or not os.path.exists(out):
            err = Path(tmp, "error.txt")
            why = err.read_text() if err.exists() else f"exit status {status}"
            if status == 130:
                raise KeyboardInterrupt
            raise ReproError(f"the reproducer run failed: {why}")
        saved = np.load(out)
        pids = json.loads(str(saved["pids"]))
        res = RunResult(spec, saved["read_ns"], saved["fault_ns"], saved["writer_ns"],
                        float(saved["elapsed"][0]), float(saved["elapsed"][1]), pids=pids,
                        lead_ns=saved["lead_ns"], server_cpu_ns=saved["server_cpu_ns"])
        with open(trace) as f:
            mm = target_mm(f, pids["reader"])
        with open(trace) as f:
            imported = import_lines(f, readers=[str(pids["reader"])], mm=[mm])
        if keep_trace is not None:
            shutil.copyfile(trace, keep_trace)
        return Traced(res, imported, mm, summary["bytes"])
    finally:
        _unmount_below(tmp)
        shutil.rmtree(tmp, ignore_errors=True)
