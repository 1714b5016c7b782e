"""An imported trace as a result row (the columns of :mod:`mcsim.schema`), so measured
and simulated rows sit in one table: ``source`` says which, the parameter columns of a
measured row are null (the kernel, machine and HZ are in the file's metadata).

>>> from mcsim.trace.importer import import_lines
>>> imp = import_lines(["ps-9 [000] ..... 1.000000: sys_pread64(fd: 3, buf: 0, count: 1, pos: 0)",
...                     "ps-9 [000] ..... 1.000002: sys_pread64 -> 0x1"])
>>> res = measured_result(imp)
>>> res.extra["source"], res.counters["hp_reads"], res["hp_wait"].n
('measured', 1, 1)
"""
from __future__ import annotations

import json

from .. import layout as lay
from .. import schema
from ..result import Result

#: Importer counters that are result counters of the same meaning.
SHARED_COUNTERS = ("trials", "sim_ns", "hp_reads", "writes", "lock_acquisitions")
#: What a trace can show (the rest of the metrics stay empty).
MEASURED_METRICS = ("hp_wait", "hp_acq_wait", "writer_wait", "hold_hp", "hold_writer",
                    "fault_lock_wait", "hold_fault")
#: Importer counters that describe the trace itself (lines and anomalies): metadata.
ANOMALIES = ("lost_events", "unfinished_acquisitions", "unreleased_holds",
             "reads_unfinished", "exit_without_enter", "restarted_requests",
             "mismatched_returns", "failed_acquisitions", "release_without_acquire",
             "trylocks", "downgrades", "grants_seen")


def measured_result(imp) -> Result:
    """A :class:`~mcsim.result.Result` of an :class:`~mcsim.trace.importer.Imported`."""
    from ..params import validate

    counters = {name: 0 for name in lay.COUNTERS}
    for name in SHARED_COUNTERS:
        counters[name] = int(imp.counters.get(name, 0))
    counters["busy_ns"] = counters["sim_ns"]
    counters["events"] = int(sum(v for k, v in imp.lines.items()
                                 if k not in ("comment", "blank", "malformed")))
    return Result(config=validate(), seed=0, trials=imp.trials, counters=counters,
                  hists=imp.hists, extra={"source": "measured"})


def measured_row(imp) -> dict:
    """The result row: parameters (and seed) null, ``source = "measured"``."""
    row = measured_result(imp).row()
    for col in schema.columns():
        if col.group == "parameter":
            row[col.name] = None
    row["seed"] = None
    row["wall_s"] = None
    return row


def trace_metadata(imp, trace_path: str) -> dict:
    """File metadata of a measured row: the trace's header (kernel, machine, HZ, clock),
    the trace file, its line counts and anomalies."""
    meta = {f"trace_{k}": v for k, v in imp.meta.items()}
    meta.update(source="measured", trace_file=str(trace_path),
                trace_lines=json.dumps(dict(sorted(imp.lines.items()))),
                trace_anomalies=json.dumps({k: int(imp.counters.get(k, 0))
                                            for k in ANOMALIES}))
    return meta


def write_measured(imp, out, trace_path: str, command: str = "") -> None:
    """Write the measured row to ``out`` as Parquet, atomically (as ``mcsim run -o``)."""
    import pyarrow as pa

    from ..dataset import file_metadata, write_table_atomic

    metadata = file_metadata(command=command, **trace_metadata(imp, trace_path))
    table = pa.Table.from_pylist([measured_row(imp)], schema=schema.arrow_schema(metadata))
    write_table_atomic(table, out)
