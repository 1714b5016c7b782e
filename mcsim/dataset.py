"""Result files on disk: atomic writes, provenance, validation, loading and compaction.

A *dataset* is a directory of Parquet files, one per sweep point (``point-<key>.parquet``,
one row each, columns of :mod:`mcsim.schema`).  Files appear atomically: each is written
under a staging directory next to the dataset (``<parent>/.mcsim-staging/``, same
filesystem, never inside the dataset), synced, then renamed into place with
:func:`os.replace`.  A reader, a crash or a full disk never leaves a partial file where
readers look, and the files double as the sweep's checkpoint.

>>> import mcsim, tempfile, pathlib
>>> out = pathlib.Path(tempfile.mkdtemp()) / "demo"
>>> from mcsim.points import PointSpec, run_point
>>> summary = run_point(PointSpec.make({"policy": "hold"}, trials=2000, seed=1), out)
>>> table = mcsim.load(out)
>>> table.num_rows, table.column("policy")[0].as_py(), sorted(p.name for p in out.parent.iterdir())
(1, 'hold', ['demo'])
"""
from __future__ import annotations

import datetime
import functools
import json
import os
import socket
import tempfile
from contextlib import suppress
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .errors import StorageError

STAGING_DIR_NAME = ".mcsim-staging"
TEMP_SUFFIX = ".tmp"
POINT_GLOB = "point-*.parquet"


def _fail(path, action: str, exc: OSError) -> StorageError:
    """One line: the path, what failed and the system's reason (``No space left ...``)."""
    reason = os.strerror(exc.errno) if exc.errno else str(exc)
    return StorageError(f"{path}: cannot {action}: {reason}")


# ----------------------------------------------------------------------- provenance
def file_metadata(command: str = "", **extra: str) -> dict[str, str]:
    """File-level Parquet key/value metadata: who wrote the file, how and when.

    Keys are ``mcsim.<name>``; ``extra`` adds more (``point_key``, ``point``, ...).
    """
    import numpy
    import pyarrow

    from . import __version__
    from .engine import compiled_engine
    from .schema import SCHEMA_VERSION

    meta = {"version": __version__, "schema_version": str(SCHEMA_VERSION),
            "numpy_version": numpy.__version__, "pyarrow_version": pyarrow.__version__,
            "build_flags": getattr(compiled_engine(), "BUILD_FLAGS", ""),
            "command": command,
            "created": datetime.datetime.now(datetime.timezone.utc).isoformat(
                timespec="seconds")}
    meta.update(extra)
    return {f"mcsim.{k}": str(v) for k, v in meta.items()}


def read_file_metadata(path: str | Path) -> dict[str, str]:
    """The ``mcsim.*`` metadata of a result file, keys without the prefix.

    >>> read_file_metadata("/nonexistent.parquet")
    Traceback (most recent call last):
    ...
    mcsim.errors.StorageError: /nonexistent.parquet: cannot read: No such file or directory
    """
    import pyarrow.parquet as pq

    try:
        raw = pq.read_metadata(path).metadata or {}
    except OSError as exc:
        raise _fail(path, "read", exc) from None
    except Exception as exc:  # pyarrow.ArrowInvalid: not a Parquet file
        raise StorageError(f"{path}: not a Parquet file ({exc})") from None
    return {k.decode()[6:]: v.decode() for k, v in raw.items() if k.startswith(b"mcsim.")}


# ----------------------------------------------------------------------- atomic writes
def staging_dir_for_dataset(dataset_dir: str | Path) -> Path:
    """Where files bound for ``dataset_dir`` are staged: a sibling, not a child."""
    return Path(dataset_dir).absolute().parent / STAGING_DIR_NAME


def _temp_prefix(final: Path) -> str:
    # host and pid let a later run tell its own dead leftovers from a live writer's files
    return f"{final.name}~{socket.gethostname()}~{os.getpid()}~"


def write_table_atomic(table, final: str | Path, staging: str | Path | None = None,
                       writer=None) -> Path:
    """Write ``table`` as Parquet to ``final``, all or nothing.

    The bytes go to a temporary file in ``staging`` (default: ``.mcsim-staging`` in
    ``final``'s directory; a dataset's points use :func:`staging_dir_for_dataset`), are
    synced, and the file is renamed into place.  ``final`` must end in ``.parquet``
    (:func:`check_parquet_path`), unless ``writer(table, file)`` writes another format.
    On any failure the temporary file is removed and :class:`~mcsim.errors.StorageError`
    is raised, naming ``final`` as given (not the staging directory); ``final`` is
    untouched.

    >>> write_table_atomic(None, "/proc/x.parquet")
    Traceback (most recent call last):
    ...
    mcsim.errors.StorageError: /proc/x.parquet: cannot write: ... (in /proc/.mcsim-staging)
    """
    given = final
    if writer is None:
        check_parquet_path(given, option=None)      # never Parquet under another name
    final = Path(final).absolute()
    staging = Path(staging) if staging else final.parent / STAGING_DIR_NAME
    try:
        _make_dir(final.parent)
        fd, tmp = _make_temp_file(final, staging)
    except _StagingFailed as exc:
        if exc.path == final.parent:
            raise StorageError(f"{given}: cannot create directory {exc.path}: "
                               f"{exc.reason}") from None
        raise StorageError(f"{given}: cannot write: {exc.reason} (in {exc.path})") from None
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), 0o666 & ~_umask())   # mkstemp makes 0600: usual mode
            (writer or _write_parquet)(table, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, final)
    except BaseException as exc:
        with suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise _fail(given, "write", exc) from None
        raise
    finally:
        with suppress(OSError):
            staging.rmdir()          # only succeeds when empty (no other writer)
    _fsync_dir(final.parent)
    return final


def _write_parquet(table, f) -> None:
    import pyarrow.parquet as pq

    pq.write_table(table, f, compression="zstd", use_dictionary=False,
                   write_statistics=[n for n in table.column_names if "_hist_" not in n])


class _StagingFailed(Exception):
    """A directory on the way to a file could not be made or written (internal)."""

    def __init__(self, path: Path, exc: OSError | None = None, reason: str = ""):
        super().__init__(path)
        self.path = path
        self.reason = reason or (os.strerror(exc.errno) if exc.errno else str(exc))


def _make_dir(directory: Path) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise _StagingFailed(directory, reason="a file of that name exists") from None
    except OSError as exc:
        raise _StagingFailed(directory, exc) from None


def _make_temp_file(final: Path, staging: Path) -> tuple[int, str]:
    """A new temporary file in ``staging`` (created if needed)."""
    for _ in range(3):
        _make_dir(staging)
        try:
            return tempfile.mkstemp(prefix=_temp_prefix(final), suffix=TEMP_SUFFIX,
                                    dir=staging)
        except FileNotFoundError:
            continue        # another writer removed the empty staging directory: again
        except OSError as exc:
            raise _StagingFailed(staging, exc) from None
    raise _StagingFailed(staging, reason="its staging directory keeps disappearing")


@functools.cache
def _umask() -> int:
    """The process's umask (reading it means setting it, so it is read once)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_dir(directory: Path) -> None:
    with suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def clean_staging(dataset_dir: str | Path) -> int:
    """Remove temporary files that writers on this host left when they were killed
    (their process is gone).  Returns how many were removed."""
    staging = staging_dir_for_dataset(dataset_dir)
    removed = 0
    for tmp in staging.glob(f"*{TEMP_SUFFIX}") if staging.is_dir() else ():
        parts = tmp.name.rsplit("~", 3)
        if len(parts) != 4 or parts[1] != socket.gethostname() or not parts[2].isdigit():
            continue
        if not _process_alive(int(parts[2])):
            with suppress(OSError):
                tmp.unlink()
                removed += 1
    with suppress(OSError):
        staging.rmdir()
    return removed


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def prepare_dataset_dir(dataset_dir: str | Path) -> Path:
    """Create the dataset directory (and check it is one) and clear dead leftovers."""
    path = Path(dataset_dir)
    try:
        _make_dir(path)
    except _StagingFailed as exc:
        raise StorageError(f"{path}: cannot create directory: {exc.reason}") from None
    if not os.access(path, os.W_OK):
        raise StorageError(f"{path}: cannot write: Permission denied")
    clean_staging(path)
    return path


def point_file_is_valid(path: str | Path, key: str) -> bool:
    """True if ``path`` is a complete result file of the point with this key, in this
    schema version (an older file is recomputed, not kept)."""
    import pyarrow.parquet as pq

    try:
        meta = pq.read_metadata(path)
    except Exception:      # missing, truncated, not Parquet
        return False
    from .schema import SCHEMA_VERSION

    kv = meta.metadata or {}
    return (meta.num_rows == 1 and kv.get(b"mcsim.point_key") == key.encode()
            and kv.get(b"mcsim.schema_version") == str(SCHEMA_VERSION).encode())


# ----------------------------------------------------------------------- reading
def result_files(path: str | Path) -> list[Path]:
    """The result files at ``path``: the file itself, or a directory's ``*.parquet``."""
    path = Path(path)
    if path.is_dir():
        files = sorted(path.glob("*.parquet"))
        if not files:
            raise StorageError(f"{path}: no result files (*.parquet) in this directory; "
                               "allowed: a sweep directory, a compacted file or an "
                               "`mcsim run --out` file")
        return files
    if not path.exists():
        raise StorageError(f"{path}: cannot read: No such file or directory")
    return [path]


def load(path: str | Path, columns: list[str] | None = None):
    """Read mcsim results into a :class:`pyarrow.Table`, one row per simulated point.

    ``path`` is a sweep directory (every ``*.parquet`` in it), a point file, a compacted
    file or an ``mcsim run --out`` file.  Rows are sorted by the parameter columns and
    seed.  The columns are described in docs/results.md.  Into pandas, in one line::

        df = mcsim.load("out/bacik-2018").to_pandas()

    ``columns``: read only these (in schema order; the sort keys are read as well).  A
    result file holds ~430 columns, and decoding them all is most of the time a sweep
    directory takes to read: a report needs about a fifth of them.

    A file that is not an mcsim result of this schema version (not Parquet, another
    program's table, an older mcsim's columns) raises a one-line
    :class:`~mcsim.errors.StorageError` naming it.  File-level provenance stays in each
    file: :func:`read_file_metadata`.

    >>> load("/nonexistent")
    Traceback (most recent call last):
    ...
    mcsim.errors.StorageError: /nonexistent: cannot read: No such file or directory
    """
    import pyarrow as pa

    from .params import PARAMS
    from .schema import param_column

    files = result_files(path)
    keys = [param_column(p.name) for p in PARAMS] + ["seed", "trials"]
    wanted = _projection(columns, keys)
    # Parquet decoding releases the GIL: a few threads read a sweep directory's many small
    # files about twice as fast on two cores.  map() keeps the order, and the first bad
    # file's error, as one thread would.
    with ThreadPoolExecutor(max(1, min(4, len(files)))) as pool:
        tables = list(pool.map(functools.partial(_read_result_file, columns=wanted), files))
    try:
        table = pa.concat_tables(tables)
    except pa.ArrowException as exc:          # cannot happen after the casts: belt and braces
        raise StorageError(f"{path}: files with different columns: {_first_line(exc)}") \
            from None
    return table.sort_by([(k, "ascending") for k in keys])


def _projection(columns, keys: list[str]) -> list[str] | None:
    """The schema's columns to read for ``columns`` (None: all), sort keys included, in
    schema order; a one-line error for a name that is not a result column."""
    from .errors import ParameterError
    from .schema import column_names

    if columns is None:
        return None
    names = column_names()
    unknown = sorted(set(columns) - set(names))
    if unknown:
        raise ParameterError("columns", unknown[0], "result columns (docs/results.md)",
                             "is not a result column")
    wanted = set(columns) | set(keys)
    return [n for n in names if n in wanted]


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _read_result_file(f: Path, columns: list[str] | None = None):
    """One result file as a table of exactly the schema's columns, or of ``columns`` (see
    :func:`load`)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from .schema import SCHEMA_VERSION, arrow_schema, column_names

    allowed = ("allowed: result files written by mcsim run --out, sweep or compact "
               "(docs/results.md)")
    try:
        # ParquetFile, not read_table: the same decoding without importing pyarrow.dataset
        # (and pandas with it, half a second).  The footer says whether it is a result
        # file before any column is decoded.
        with pq.ParquetFile(f) as parquet:
            schema = parquet.schema_arrow
            present = set(schema.names)       # a property that builds a new list per call
            names = column_names()
            missing = [n for n in names if n not in present]
            table = None if missing else parquet.read(columns=columns or names,
                                                      use_threads=False)
    except pa.ArrowException as exc:          # before OSError: ArrowIOError is both
        if isinstance(exc, OSError) and getattr(exc, "errno", None):
            raise _fail(f, "read", exc) from None
        raise StorageError(f"{f}: not an mcsim result file: not Parquet "
                           f"({_first_line(exc)}); {allowed}") from None
    except OSError as exc:
        raise _fail(f, "read", exc) from None
    meta = schema.metadata or {}
    version = meta.get(b"mcsim.schema_version", b"").decode(errors="replace")
    if version and version != str(SCHEMA_VERSION):
        writer = meta.get(b"mcsim.version", b"?").decode(errors="replace")
        raise StorageError(f"{f}: written by mcsim {writer} in result schema version "
                           f"{version}, this mcsim reads version {SCHEMA_VERSION}; allowed: "
                           "files of this version (rerun the sweep or run to rewrite it)")
    if missing:
        shown = ", ".join(missing[:3]) + (", ..." if len(missing) > 3 else "")
        verb = "is" if len(missing) == 1 else "are"
        raise StorageError(f"{f}: not an mcsim result file: {len(missing)} of the "
                           f"{len(names)} result columns {verb} missing ({shown}); {allowed}")
    target = arrow_schema()
    if columns is not None:
        target = pa.schema([target.field(n) for n in columns], metadata=target.metadata)
    try:
        return table.select(columns or names).cast(target)
    except (pa.ArrowException, ValueError, TypeError) as exc:
        raise StorageError(f"{f}: not an mcsim result file: a column has another type "
                           f"({_first_line(exc)}); {allowed}") from None


def check_parquet_path(path: str | Path, option: str | None = "--out") -> Path:
    """Refuse an output file name that does not end in ``.parquet`` (mcsim writes Parquet
    only: a ``.csv`` or ``.arrow`` name would be a lie), before any work is done.

    >>> check_parquet_path("r.parquet").name
    'r.parquet'
    >>> check_parquet_path("r.csv")
    Traceback (most recent call last):
    ...
    mcsim.errors.UsageError: --out: 'r.csv' is not a .parquet file name; allowed: a path ending in .parquet (mcsim writes Parquet), e.g. r.parquet
    """
    from .errors import UsageError

    path = Path(path)
    if path.suffix.lower() != ".parquet" or path.name.lower() == ".parquet":
        example = (path.with_suffix(".parquet") if path.stem and path.suffix
                   else Path(str(path) + ".parquet")).name
        what = f"{option}: {str(path)!r}" if option else str(path)
        raise UsageError(f"{what} is not a .parquet file name; allowed: a path ending in "
                         f".parquet (mcsim writes Parquet), e.g. {example}")
    return path


def compact(dataset_dir: str | Path, out: str | Path | None = None,
            command: str = "") -> tuple[Path, int]:
    """Write every point of ``dataset_dir`` into one file (default: ``<dir>.parquet``
    beside the directory), atomically.  Returns the file and its number of rows."""
    dataset_dir = Path(dataset_dir)
    out = check_parquet_path(out) if out else dataset_dir.with_name(dataset_dir.name
                                                                    + ".parquet")
    if not dataset_dir.is_dir():
        raise StorageError(f"{dataset_dir}: not a directory of result files")
    files = result_files(dataset_dir)
    table = load(dataset_dir)
    metadata = file_metadata(command=command, compacted_from=str(dataset_dir),
                             sources=json.dumps([f.name for f in files]))
    metadata.update(_workloads_of(files, table))
    write_table_atomic(table.replace_schema_metadata(metadata), out)
    return out, table.num_rows


def _workloads_of(files: list[Path], table) -> dict:
    """The ``mcsim.workloads`` metadata of the union of ``files``' workloads (nothing to
    read when every row is the open model)."""
    from .result import WORKLOADS_METADATA_KEY

    if not any(table.column("workload_hash").to_pylist()):
        return {}
    known: dict = {}
    for f in files:
        text = read_file_metadata(f).get(WORKLOADS_METADATA_KEY[len("mcsim."):])
        if text:
            known.update(json.loads(text))
    return {WORKLOADS_METADATA_KEY: json.dumps(known, sort_keys=True)} if known else {}


def workload_texts(path: str | Path) -> dict:
    """``{workload_hash: canonical text}`` of the workloads in a result file (its
    ``mcsim.workloads`` metadata); empty when every row is the open model.

    >>> workload_texts("/nonexistent.parquet")
    Traceback (most recent call last):
    ...
    mcsim.errors.StorageError: /nonexistent.parquet: cannot read: No such file or directory
    """
    text = read_file_metadata(path).get("workloads")
    return json.loads(text) if text else {}


def row_histogram(row, metric: str):
    """The :class:`~mcsim.histogram.Histogram` of ``metric`` stored in a result row (a
    dict, e.g. ``table.to_pylist()[i]``).  Histograms of rows add up exactly::

        total = row_histogram(rows[0], "hp_wait") + row_histogram(rows[1], "hp_wait")
    """
    from .histogram import Histogram
    from .schema import HIST_ARRAYS, HIST_SCALARS

    sparse = {k: row[f"{metric}_hist_{k}"] for k, _ in HIST_ARRAYS + HIST_SCALARS}
    sparse["bucket"] = sparse.pop("idx")
    return Histogram.from_sparse(sparse)
