"""The benchmark scenarios: every configuration the benchmarks and the SimPy agreement test
run, as plain parameter dicts for :func:`mcsim.params.validate` (defaults fill the rest),
and for a workload scenario the ready workload it runs (``"workload"``, docs/model.md §12).
A scenario with ``"simpy": False`` is outside the SimPy peer's model (a kernel preset, a
workload).

>>> from mcsim.params import validate
>>> list(SCENARIOS)  # doctest: +NORMALIZE_WHITESPACE
['reference', 'throttled', 'writer-heavy', 'kernel-6.18', 'kernel-6.18-patched',
 'workload-mkwrite-vs-mprotect', 'workload-mkwrite-vs-mprotect-2cpus']
>>> [validate(s["params"])["lp_depth"] for s in SCENARIOS.values()]
[1, 1, 1, 1, 1, 1, 1]
>>> [name for name, s in SCENARIOS.items() if s.get("simpy", True)]
['reference', 'throttled', 'writer-heavy']
"""

#: The scenarios ``mcsim.bench.run_benchmarks`` measures, in table order.
SCENARIOS = {
    "reference": {
        "params": {},
        "about": "the default parameters: the 2018 RFC's story (stock-4.19, HDD, LP cgroup "
                 "throttled to one bio, 400 LP lock users/s of which 10% writers, 200 HP "
                 "reads/s); short trials, ~4.8 events each",
    },
    "throttled": {
        "params": {"policy": "hold", "bg_io_rate": 60.0},
        "about": "heavily throttled: twice the background LP IO, so the single LP slot is "
                 "~80% busy, and every fault step under L (hold); long busy periods, ~13 "
                 "events per trial, up to ~100 pending events",
    },
    "writer-heavy": {
        "params": {"writer_ratio": 0.5, "lp_rate": 1000.0},
        "about": "writer-heavy: 500 mmap/munmap writers/s and 500 faults/s against the "
                 "throttled HDD; HP readers queue behind writers; ~7 events per trial",
    },
    # The kernel presets run the per-VMA lock paths (docs/model.md §11); the SimPy peer
    # models the 2018 kernels only, so these scenarios have no SimPy measurement.
    "kernel-6.18": {
        "params": {"kernel": "6.18", "p_same_vma": 0.5, "p_mkwrite_writeback": 0.1,
                   "p_retry_miss": 0.2},
        "about": "today's kernel: file faults under the per-VMA lock, retry passes under "
                 "mmap_lock(R), half the writers vma_start_write() the faulting VMA, "
                 "->page_mkwrite waiting for writeback (10% of write faults) and retry "
                 "passes missing the page (20%); two mmap_lock acquisitions per HP read",
        "simpy": False,
    },
    "kernel-6.18-patched": {
        "params": {"kernel": "6.18+vma-retry+cmdline-vma", "p_same_vma": 0.5,
                   "p_mkwrite_writeback": 0.1, "p_retry_miss": 0.2, "p_hp_fallback": 0.1},
        "about": "kernel-6.18 with both 2026 series: retry passes and HP reads under the "
                 "per-VMA lock, 10% of HP acquisitions falling back to mmap_lock(R)",
        "simpy": False,
    },
    # A closed-loop workload (model.md §12): threads in loops and window trials instead of
    # an open stream and regenerative cycles, run as users run it (its default warm-up
    # and window).  Each window trial is a block of its own (one random stream per
    # trial), so the per-block work outside the core counts here as it does in a run.
    "workload-mkwrite-vs-mprotect": {
        "params": {},
        "workload": "mkwrite-vs-mprotect",
        "about": "the ready workload mkwrite-vs-mprotect (kernel 6.18): a thread writing "
                 "shared pages with no think time (->page_mkwrite waiting for writeback), "
                 "an mprotect loop on the same VMA and a cmdline reader loop; window "
                 "trials of 10 s after 1 s of warm-up, ~12,500 events each",
        "simpy": False,
        "first_trials": 2,                  # a trial is ~12,500 events, not ~5
        "instruction_trials": (2, 8),       # callgrind's short and long runs
    },
    # The same workload on 2 CPUs (model.md §14): every wake-up and step start also takes
    # a CPU or queues for one, and every sleep frees one, so this prices the run queue.
    "workload-mkwrite-vs-mprotect-2cpus": {
        "params": {},
        "workload": "mkwrite-vs-mprotect-2cpus",
        "about": "workload-mkwrite-vs-mprotect on a machine of 2 CPUs (cpus = 2, "
                 "cpu_switch 2 us, the ready workload mkwrite-vs-mprotect-2cpus): the three "
                 "threads share two CPUs, a task woken with both busy waits in the run "
                 "queue; ~12,500 events per window trial",
        "simpy": False,
        "first_trials": 2,
        "instruction_trials": (2, 8),
    },
}

#: What ``mcsim bench --instructions`` counts: the scenarios above plus the writers-only
#: M/M/1 queue (every LP lock user a writer with an exponential hold, no HP reads, no
#: background IO: the smallest event mix the core has).
INSTRUCTION_SCENARIOS = {
    **SCENARIOS,
    "mm1-writers": {
        "params": {"writer_ratio": 1.0, "bg_io_rate": 0.0, "hp_rate": 0.0,
                   "writer_hold": "exp(1ms)"},
        "about": "writers only: an M/M/1 queue at rho = 0.4 (400/s, exp(1ms) holds)",
    },
}

#: A small, contended configuration on which the SimPy peer and the compiled core must
#: agree statistically (tests/test_simpy_agreement.py): exponential IO keeps trials short,
#: writers hold L often enough that HP reads wait, and every fault kind and both passes
#: occur.
AGREEMENT = dict(device="exp(300us)", lp_rate=3000.0, writer_ratio=0.3,
                 writer_hold="exp(200us)", hp_rate=1000.0, bg_io_rate=500.0, p_miss=0.3,
                 p_async_ra=0.1, p_locked=0.05, write_fault_ratio=0.2, p_mkwrite_slow=0.5)


def pending_family(occupancies=(0.5, 1, 2, 4, 8, 12)):
    """Scenarios that grow the event queue: the LP cgroup unthrottled (128 slots) and
    background IO raised so that ``occupancy`` bios are in flight on average (each one a
    pending completion event).  A regenerative trial ends only when the system empties,
    which takes ~e**occupancy events, so the family stops at a dozen.

    >>> [round(p["bg_io_rate"]) for p in pending_family((1, 8)).values()]
    [110, 882]
    """
    mean_hdd_s = 8e-3 * 1.1331484530668263       # lognormal(8ms, 0.5) mean = 8ms*e^(1/8)
    return {f"occupancy-{occ:g}": {"throttle_depth": 0, "bg_io_rate": occ / mean_hdd_s}
            for occ in occupancies}
