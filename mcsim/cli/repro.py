"""``mcsim repro``: run the mmap_lock inversion reproducer on the running kernel, record
and import its trace, simulate the same workload on the kernel's preset, and print
measured beside predicted (docs/realkernel.md).

Exit code 5 when the machine lacks what the run needs (root, /dev/fuse, tracefs, a C
compiler, the libfuse3 headers, the kernel's HZ); the message says which and how to get
it.

>>> from mcsim.cli import main
>>> main(["repro", "--path", "read"])
2
"""
from pathlib import Path
from typing import Annotated, Optional

import typer

from .app import app
from .common import command_line

REPRO_EPILOG = """Examples:

  mcsim repro --path retry --delay 20ms --duration 5s

  mcsim repro --path mkwrite --delay 5ms --duration 5s --controls -o mkwrite.parquet
"""


#: Stand-ins for the machine in the prerequisite check (keywords of
#: ``mcsim.realkernel.check_prerequisites``: ``euid``, ``dev_fuse``, ``tracefs_dir``, ...);
#: empty: this machine.  Tests set them to see each refusal without removing a device.
MACHINE: dict = {}


def _check_prerequisites() -> None:
    """Refuse at once (exit 5, one line) when the machine cannot run it."""
    from ..realkernel.prereq import require

    require(tracefs=True, **MACHINE)


@app.command("repro", epilog=REPRO_EPILOG)
def repro(
    path: Annotated[str, typer.Option(
        metavar="retry|mkwrite", help="The inversion path: a fault whose TRIED retry pass "
        "reads under mmap_lock(R), or ->page_mkwrite waiting for writeback under the VMA "
        "lock.")] = "retry",
    delay: Annotated[str, typer.Option(metavar="D", help="The FUSE reply delay.")] = "20ms",
    duration: Annotated[str, typer.Option(metavar="S", help="How long each run lasts.")] = "5s",
    writer: Annotated[str, typer.Option(
        metavar="same|other|none", help="madvise() of the faulting VMA, mmap()/munmap() "
        "elsewhere, or no writer.")] = "same",
    controls: Annotated[bool, typer.Option(
        "--controls", help="Also run the controls (no writer, writer elsewhere, the run's "
        "writer at D = 0, no writer at D = 0) and "
        "predict with the constants measured on them.")] = False,
    out: Annotated[Optional[Path], typer.Option(
        "--out", "-o", metavar="FILE", dir_okay=False,
        help="Write the measured and predicted rows to this Parquet file.")] = None,
    trace: Annotated[Optional[Path], typer.Option(
        metavar="FILE", dir_okay=False, help="Keep the run's recorded trace here.")] = None,
    kernel: Annotated[Optional[str], typer.Option(
        metavar="PRESET", help="The model's kernel preset (default: the one of the running "
        "kernel, 6.18 for 6.18.x).")] = None,
    hz: Annotated[Optional[int], typer.Option(
        metavar="N", min=1, help="The kernel's HZ (default: CONFIG_HZ of its config).")] = None,
    trials: Annotated[int, typer.Option(
        metavar="N", min=1, max=1000, help="Simulated windows of the run's duration.")] = 4,
    seed: Annotated[int, typer.Option(metavar="S", min=0, help="The model's seed.")] = 1,
    cpus: Annotated[Optional[int], typer.Option(
        metavar="N", min=0, max=1024, help="CPUs of the calibrated model (docs/model.md "
        "§14; default: the CPUs this process may run on; 0: a CPU per task).")] = None,
    engine: Annotated[str, typer.Option(
        metavar="compiled|reference", help="The model's engine.")] = "compiled",
) -> None:
    """Run the reproducer on this kernel with its mmap_lock trace recorded, simulate the
    same workload on the kernel's preset, and print measured beside predicted: the
    reader's wait per read (p50, p90, p99, max), the writer's wait, the loops'
    throughputs.  Needs root, /dev/fuse and tracefs; stops what it starts and unmounts
    what it mounts, also on Ctrl-C."""
    from ..points import check_engine
    from ..realkernel.spec import RunSpec

    spec = RunSpec(path=path, delay=delay, duration=duration, writer=writer)
    check_engine(engine)
    if kernel is not None:
        from ..kernels import KERNELS
        if kernel not in KERNELS:
            from ..errors import ParameterError
            raise ParameterError("kernel", kernel, "one of " + ", ".join(KERNELS))
    _check_prerequisites()
    from ..realkernel.compare import compare, write_rows

    say = lambda text: typer.echo(text, err=True)  # noqa: E731
    compared, calibration = compare(spec, controls=controls, hz=hz, kernel=kernel,
                                          trials=trials,
                                          seed=seed, engine=engine, keep_trace=trace, say=say,
                                          cpus=cpus)
    _print(compared, calibration)
    if out is not None:
        write_rows(compared, out, command_line(), calibration)
        typer.echo(f"wrote {out}")


def _print(compared, calibration) -> None:
    """One table per run (measured, model, calibrated model), then where the
    calibration's constants came from."""
    from ..realkernel.compare import label
    from ..realkernel.sidebyside import format_table

    for c in compared:
        typer.echo(f"\n{label(c.spec)}  (ms; measured = the kernel's trace)")
        typer.echo(format_table([(role, s) for role, s, _ in c.rows]))
    if calibration is not None:
        typer.echo(f"\ncalibrated from {calibration.source}: measured distributions "
                   "(empirical: device, holds, wake_jitter, cpu_switch, think times, "
                   "wake_remote), the machine's CPUs, where the kernel put woken tasks "
                   "(cpu_affinity) and the threads' timer slack (timer_slack)")
