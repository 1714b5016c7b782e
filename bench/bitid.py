"""Bit-identity check of the compiled core: hash what it returns on a fixed list of runs.

A developer tool for changes to the core (``kernels_pyx/``) that must not change any
result.  Hash the outputs on the build before the change, keep the file outside the
checkout, rebuild with the change and compare::

    python setup.py build_ext --inplace            # the build before the change
    PYTHONPATH=. python bench/bitid.py write /tmp/bitid-before.json
    # ... change the core, rebuild ...
    PYTHONPATH=. python bench/bitid.py check /tmp/bitid-before.json   # exit 1 on a mismatch

``check`` prints each configuration whose hash differs (or is missing) and exits 1 if
any does; ``list`` prints the configurations' names.  Each hash covers everything a run
returns: the histogram arrays, scalars and floats, the counters, the per-trial rows, the
bit generator's final state and, for a run that ends in an error, the error's type and
message (and the counters up to it).  Metrics, counters and trial fields are keyed by
name, and those a run leaves at 0 are left out, so a file written before a counter was
added still checks an unchanged core.  Runs go through ``mcsim._engine.run_block`` (one
block, with trial rows, some with ``check_invariants``) and ``mcsim.engine.run_blocks``
(chunks of blocks on 1 and 2 workers, the path of ``mcsim.simulate``).

The configurations (about 200, a few seconds in all): the bench and instruction
scenarios, three pending-queue scenarios, every kernel preset with and without HZ, 1 and
2 CPUs with const, exponential and empirical wake jitter and ``io_cpu``, jitter without
CPUs, leads, every ready workload, the plain scenario family under other bit generators
(PCG64, MT19937, Philox), 60 random configurations from a fixed seed (six also with
``check_invariants``), the differential tests' stress sets (some end in a
SimulationError) and a few that fail validation.  The list is fixed: the same build
gives the same file.

>>> names = [name for name, _ in configurations()]
>>> len(names) == len(set(names)) and 100 <= len(names) <= 250
True
"""
from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RANDOM_SEED = 20_261_299          # the random configurations' own generator
RANDOM_CONFIGS = 60


def _digest(*parts) -> str:
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, np.ndarray):
            h.update(str(part.dtype).encode() + str(part.shape).encode())
            h.update(np.ascontiguousarray(part).tobytes())
        else:
            h.update(repr(part).encode())
        h.update(b"\0")
    return h.hexdigest()


def _by_name(hist_arrays, hist_scalars, hist_floats, counters, rows=None) -> list:
    """A run's outputs as _digest's parts, keyed by the names of mcsim.layout and leaving
    out what a run never touched: the metrics without samples, the counters and trial
    fields that stay 0.  So a counter, metric or field added to the layout (0 on every run
    of this list until its feature is on) leaves an older build's hashes as they were,
    while a value that moves, or one that leaves or reaches 0, still changes them."""
    from mcsim import layout as lay
    parts = []
    for m, name in enumerate(lay.METRICS):
        if hist_scalars[m, 0] != 0:           # n: samples recorded
            parts += [name, hist_arrays[m], hist_scalars[m], hist_floats[m]]
    parts.append([(name, int(v)) for name, v in zip(lay.COUNTERS, counters) if v])
    if rows is not None:
        for k, name in enumerate(lay.TRIAL_FIELDS):
            if rows[:, k].any():
                parts += [name, rows[:, k]]
    return parts


def _bitgen(kind: str, seed: int):
    from mcsim.engine import block_bitgen
    if kind == "pcg64dxsm":
        return block_bitgen(seed, 0)
    ss = np.random.SeedSequence(seed, spawn_key=(0,))
    return {"pcg64": np.random.PCG64, "mt19937": np.random.MT19937,
            "philox": np.random.Philox}[kind](ss)


def run_one_block(params, trials, seed=1, check=False, bitgen="pcg64dxsm") -> str:
    """The hash of one ``run_block`` of ``trials`` (with rows) on the compiled core."""
    from mcsim import layout as lay
    from mcsim.engine import BlockOutput, compiled_engine
    from mcsim.params import validate
    from mcsim.scenario import compile_scenario
    try:
        rec = compile_scenario(validate(dict(params)))
    except Exception as exc:                  # bad input: its one-line message
        return _digest("invalid", type(exc).__name__, str(exc))
    out = BlockOutput.zeros()
    rows = np.zeros((trials, len(lay.TRIAL_FIELDS)), dtype=np.int64)
    gen = _bitgen(bitgen, seed)
    error = None
    try:
        compiled_engine().run_block(rec, gen, trials, out.hist_arrays, out.hist_scalars,
                                    out.hist_floats, out.counters, rows,
                                    check_invariants=check)
    except Exception as exc:
        error = (type(exc).__name__, str(exc))
    return _digest(*_by_name(out.hist_arrays, out.hist_scalars, out.hist_floats,
                             out.counters, rows),
                   json.dumps(gen.state, sort_keys=True, default=str), error)


def run_chunks(params, trials, seed=1, workers=1, workload=None) -> str:
    """The hash of ``mcsim.engine.run_blocks`` over ``trials`` (the path of simulate)."""
    from mcsim.engine import block_sizes, run_blocks, trial_block_size
    from mcsim.params import validate
    from mcsim.scenario import compile_scenario
    from mcsim.workload import workload_of
    wl = workload_of(workload)
    config = wl.config(params) if wl is not None else validate(dict(params))
    rec = compile_scenario(config)
    if wl is not None:
        wl.apply(rec)
    error = None
    try:
        out = run_blocks(rec, seed, block_sizes(trials, block_trials=trial_block_size(rec)),
                         workers=workers)
        arrays = _by_name(out.hist_arrays, out.hist_scalars, out.hist_floats,
                          out.counters)
    except Exception as exc:
        error, arrays = (type(exc).__name__, str(exc)), ()
    return _digest(*arrays, error)


def _random_params(rng) -> dict:
    """One random configuration: the differential tests' option lists (tests/
    test_differential.py: configs and kernel_configs), drawn from a seeded generator."""
    from mcsim import POLICIES
    from mcsim.kernels import KERNEL_LIST
    pick = lambda options: options[int(rng.integers(len(options)))]   # noqa: E731
    durations = ["0", "1us", "exp(20us)", "lognormal(50us, 1.0)", "const(3us)"]
    p = {
        "max_trial_events": 5_000,
        "era": pick(["4.x", "5.11+"]), "policy": pick(sorted(POLICIES)),
        "throttle_depth": int(rng.integers(0, 8)), "wake": pick(["0", "1us", "20us"]),
        "hp_rate": pick([0.0, 50.0, 500.0]), "hp_hold": pick(durations),
        "lp_rate": pick([100.0, 400.0, 1500.0]), "writer_ratio": pick([0.0, 0.1, 0.5, 1.0]),
        "writer_hold": pick(durations), "write_fault_ratio": pick([0.0, 0.2, 0.6]),
        "p_miss": pick([0.0, 0.1, 0.3]), "p_async_ra": pick([0.0, 0.1]),
        "p_locked": pick([0.0, 0.1]), "p_mkwrite_slow": pick([0.0, 0.5, 1.0]),
        "fault_cpu": pick(durations), "minor_cpu": pick(durations),
        "mkwrite_fast": pick(durations),
        "device": pick(["ssd", "exp(200us)", "lognormal(500us, 0.8)", "const(150us)"]),
        "bg_io_rate": pick([0.0, 100.0, 400.0]), "evict_rate": pick([0.0, 10.0, 1000.0]),
        "revalidate_fail": pick([0.0, 0.3]), "handoff_timeout": pick(["4ms", "100us"]),
        "max_readers_wakeup": pick([1, 256]),
        "wake_jitter": pick(["0", "0", "3us", "exp(5us)", "empirical(1us, 3us, 8us, 60us)"]),
        "cpus": pick([0, 0, 0, 1, 2, 3]),
        "cpu_switch": pick(["2us", "exp(3us)", "empirical(0, 1us, 4us, 30us)"]),
        "io_cpu": pick(["0", "0", "20us", "exp(30us)"]),
    }
    kernel = pick(["none", "none", *(k.name for k in KERNEL_LIST)])
    if kernel != "none":
        del p["era"], p["policy"]
        p.update(kernel=kernel, hz=pick([0, 100, 250, 1000]),
                 p_same_vma=pick([0.0, 0.5, 1.0]), p_retry_miss=pick([0.0, 0.3, 1.0]),
                 p_dirty_throttle=pick([0.0, 0.3]),
                 dirty_throttle=pick(["0", "exp(50us)"]), p_hp_fallback=pick([0.0, 0.3]))
    return p


def _stress_sets():
    sys.path.insert(0, str(ROOT / "tests"))
    import test_differential_stress as td
    out = [(f"stress-{k}-{flavour}", p, td.STRESS_TRIALS[flavour], k)
           for k, (flavour, p) in enumerate(td.stress_configs())]
    out += [(f"kernel-stress-{k}", p, t, k)
            for k, (p, t) in enumerate(td.kernel_stress_configs())]
    out += [(f"cpu-stress-{k}", p, min(t, 300), k)
            for k, (p, t) in enumerate(td.cpu_stress_configs())]
    return out


def configurations():
    """``(name, thunk)`` pairs; each thunk returns its configuration's hash."""
    from mcsim.benchmarks.scenarios import INSTRUCTION_SCENARIOS, pending_family
    from mcsim.kernels import KERNEL_LIST
    from mcsim.workload import list_workloads
    out = []

    def add(name, fn, *args, **kwargs):
        out.append((name, lambda: fn(*args, **kwargs)))

    for name, sc in INSTRUCTION_SCENARIOS.items():
        if "workload" in sc:
            add(f"bench-{name}", run_chunks, sc["params"], 2, workload=sc["workload"])
            continue
        add(f"bench-{name}", run_one_block, sc["params"], 65_536)
        add(f"bench-{name}-checked", run_one_block, sc["params"], 5_000, check=True)
        add(f"bench-{name}-chunks", run_chunks, sc["params"], 300_000)
        for gen in ("pcg64", "mt19937", "philox"):
            add(f"bench-{name}-{gen}", run_one_block, sc["params"], 5_000, bitgen=gen)
    for name, p in pending_family((1, 4, 8)).items():
        add(f"pending-{name}", run_one_block, p, 300)
    for k in KERNEL_LIST:
        add(f"kernel-{k.name}", run_one_block, {"kernel": k.name, "p_same_vma": 0.3}, 20_000)
        add(f"kernel-{k.name}-hz250", run_one_block,
            {"kernel": k.name, "hz": 250, "p_retry_miss": 0.2}, 10_000)
    for cpus in (1, 2):
        for jitter in ("0", "3us", "exp(5us)", "empirical(1us, 3us, 8us, 60us)"):
            add(f"cpus{cpus}-jitter-{jitter}", run_one_block,
                {"cpus": cpus, "wake_jitter": jitter, "cpu_switch": "exp(2us)"}, 20_000)
        add(f"cpus{cpus}-io_cpu", run_one_block,
            {"cpus": cpus, "io_cpu": "exp(5us)", "max_trial_events": 20_000}, 10_000)
    for jitter in ("3us", "exp(5us)", "empirical(1us, 3us, 8us, 60us)"):
        add(f"jitter-{jitter}", run_one_block, {"wake_jitter": jitter}, 30_000)
    add("writers-only-lognormal", run_one_block,
        {"writer_ratio": 1.0, "hp_rate": 0.0, "writer_hold": "lognormal(1ms, 0.5)"}, 30_000)
    for wl in list_workloads():
        for workers in (1, 2):
            add(f"workload-{wl.name}-w{workers}", run_chunks, {"window": "200ms",
                "warmup": "20ms"}, 3, workers=workers, workload=wl.name)
    add("reference-w2", run_chunks, {}, 150_000, workers=2)
    rng = np.random.default_rng(RANDOM_SEED)
    for i in range(RANDOM_CONFIGS):
        p = _random_params(rng)
        add(f"random-{i}", run_one_block, p, 2_000, seed=i, check=i % 10 == 0)
    for name, p, trials, seed in _stress_sets():
        add(name, run_one_block, p, trials, seed=seed, check=seed < 2)
    add("bad-cpus", run_one_block, {"cpus": -1}, 10)
    add("bad-jitter", run_one_block, {"wake_jitter": "exp(-1us)"}, 10)
    add("bad-kernel", run_one_block, {"kernel": "1.0"}, 10)
    add("too-long", run_one_block, {"bg_io_rate": 3000.0, "max_trial_events": 1_000}, 100)
    return out


def hashes() -> dict[str, str]:
    return {name: thunk() for name, thunk in configurations()}


def main(argv) -> int:
    if len(argv) == 2 and argv[1] == "list":
        print("\n".join(name for name, _ in configurations()))
        return 0
    if len(argv) == 2 and argv[1] in ("-h", "--help"):
        print(__doc__.split("\n>>>")[0])
        return 0
    if len(argv) != 3 or argv[1] not in ("write", "check"):
        print("usage: python bench/bitid.py write FILE | check FILE | list", file=sys.stderr)
        return 2
    got = hashes()
    path = Path(argv[2])
    if argv[1] == "write":
        path.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n")
        print(f"{len(got)} configurations hashed into {path}")
        return 0
    want = json.loads(path.read_text())
    bad = [name for name in sorted(set(want) | set(got)) if want.get(name) != got.get(name)]
    for name in bad:
        print(f"MISMATCH {name}: {want.get(name, 'missing')[:12]} -> "
              f"{got.get(name, 'missing')[:12]}")
    print(f"{len(got) - len(bad)} of {len(set(want) | set(got))} configurations identical")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
