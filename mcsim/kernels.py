"""Kernels as rows of data: the rwsem era, the fault path, the VMA-lock rules, the writers
and the HP reader's program of every kernel on the timeline (docs/model.md §11).

A :class:`Kernel` says everything the engines need to know about one kernel; the engines
never see its name.  ``--policy``/``--era`` (the 2018 model) are the same thing with the
2018 defaults for the newer fields: :func:`legacy` builds that row, so one compile path
serves both.

>>> k = KERNELS["6.18"]
>>> k.first_lock, k.retry_lock, k.vma_writers, k.hp_acquisitions
('vma', 'mmap', True, 2)
>>> legacy("stock-4.19", "4.x").hp_acquisitions
1
>>> [name for name in KERNELS][:3]
['2.6.36', '4.19', '4.19+rfc-v1']
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from .policies import POLICIES, STEP_COLUMNS

#: rwsem eras as data: (handoff bit, a wake-up grants every queued reader, reader stealing).
ERA_RULES = {
    "4.x": dict(handoff=False, wake_all_readers=False, reader_steal=False),
    "5.3": dict(handoff=True, wake_all_readers=True, reader_steal=False),
    "5.11+": dict(handoff=True, wake_all_readers=True, reader_steal=True),
}
ERAS = tuple(ERA_RULES)
LOCKS = ("mmap", "vma")       # which lock a fault pass / an HP acquisition takes


@dataclass(frozen=True)
class Kernel:
    """One kernel's behaviour on the path HP reader → mmap lock → LP fault → slow IO.

    ``locked`` has one flag per :data:`mcsim.policies.STEP_COLUMNS` entry: True = the step
    runs holding the pass's lock, False = the lock is dropped before it.
    """

    name: str
    version: str
    changed: str                  # what this kernel changed on the path, one sentence
    commits: tuple[str, ...]
    policy: str                   # the nearest 2018 policy (for the ``policy`` column)
    locked: tuple[bool, ...]
    keeps_page: bool
    era: str
    dirty_completes: bool = False  # drop before dirty throttling ends the fault (no retry)
    first_lock: str = "mmap"       # the lock pass 1 of a file fault takes
    retry_lock: str = "mmap"       # the lock a retry pass takes
    tried_on_major: bool = False   # a retry after a VMA-locked pass is TRIED only if major
    vma_writers: bool = False      # writers vma_start_write() the VMA they change
    hp_acquisitions: int = 1       # mmap_lock acquisitions per cmdline read()
    hp_lock: str = "mmap"          # the lock a cmdline read's acquisition takes

    def behaviours(self) -> dict:
        """The row as plain values (for ``mcsim kernels --json`` and the docs table)."""
        return {"era": self.era, "holds_lock": dict(zip(STEP_COLUMNS, self.locked)),
                "keeps_page": self.keeps_page, "dirty_completes": self.dirty_completes,
                "first_lock": self.first_lock, "retry_lock": self.retry_lock,
                "tried_on_major": self.tried_on_major, "vma_writers": self.vma_writers,
                "hp_acquisitions": self.hp_acquisitions, "hp_lock": self.hp_lock}


def legacy(policy: str, era: str) -> Kernel:
    """The 2018 model's kernel: a policy row on an rwsem era, one acquisition per HP read,
    no VMA locks (results identical to mcsim before kernel presets)."""
    p = POLICIES[policy]
    return Kernel(f"{policy}/{era}", "", p.stands_for, (), policy, p.locked, p.keeps_page,
                  era)


def _columns(**drops) -> tuple[bool, ...]:
    """Step flags: every column under the lock except those given as False."""
    return tuple(drops.get(c, True) for c in STEP_COLUMNS)


_51 = _columns(miss_submit=False, miss_io=False, ra_submit=False, locked_wait=False)
_55 = _columns(miss_submit=False, miss_io=False, ra_submit=False, locked_wait=False,
               dirty=False)


def _from_policy(name, version, changed, commits, policy, hp_acquisitions):
    p = POLICIES[policy]
    return Kernel(name, version, changed, commits, policy, p.locked, p.keeps_page, "4.x",
                  hp_acquisitions=hp_acquisitions)


_K_2636 = _from_policy("2.6.36", "2.6.36", "no fault retry: every fault step under "
                       "mmap_sem", (), "hold", 1)
_K_419 = _from_policy("4.19", "4.19", "fault retry only for a locked page; sync and async "
                      "readahead submit under mmap_sem; a cmdline read is one access_remote_vm() "
                      "(2018 get_mm_cmdline rewrite; arg bounds under arg_lock)",
                      ("d065bd810b6d", "5ab827189965", "88aa7cc688d4"), "stock-4.19", 1)
_K_51 = replace(_K_419, name="5.1", version="5.1", changed="the read side drops mmap_sem "
                "before IO (maybe_unlock_mmap_for_io)", commits=("6b4c9f446981",),
                policy="upstream-5.1", locked=_51)
_K_55 = replace(_K_51, name="5.5", version="5.5", changed="write faults drop mmap_sem before "
                "dirty throttling (balance_dirty_pages) and retry; rwsem handoff bit and "
                "wake-up of all queued readers (5.3); a cmdline read checks the last argv byte "
                "first (5.3): two access_remote_vm() calls",
                commits=("89b15332af7c", "4f23dbc1e657", "d3681e269fff", "d26d0cd97c88"),
                locked=_55, era="5.3", hp_acquisitions=2)
_K_57 = replace(_K_55, name="5.7", version="5.7", changed="VM_FAULT_RETRY allowed more than "
                "once; only the first attempt may drop (fault_flag_allow_retry_first)",
                commits=("4064b9827063",))
_K_511 = replace(_K_57, name="5.11", version="5.11", changed="rwsem: reader spinning removed, "
                 "reader lock stealing; mmap_lock tracepoints",
                 commits=("617f3ef95177", "1a728dff855a", "2b5067a8143e"), era="5.11+")
_K_64 = replace(_K_511, name="6.4", version="6.4", changed="per-VMA locks for anonymous "
                "faults; writers vma_start_write() the VMAs they change; since 6.0 the drop "
                "before dirty throttling completes the fault (VM_FAULT_COMPLETED)",
                commits=("50ee32537206", "d92725256b4f"), vma_writers=True,
                dirty_completes=True)
_K_67 = replace(_K_64, name="6.7", version="6.7", changed="file faults (read, shared, COW, "
                "->page_mkwrite) under the per-VMA lock; the retry after a VMA-locked pass "
                "takes mmap_lock, TRIED if the pass was major",
                commits=("12214eba1992", "4ed4379881aa", "4a68fef16df9", "46e714c729c8"),
                first_lock="vma", tried_on_major=True)
_K_618 = replace(_K_67, name="6.18", version="6.18", changed="today's kernel: as 6.7 on this "
                 "path (the VMA read lock is a reference count since 6.15, same rules)",
                 commits=())
_VMA_RETRY = dict(retry_lock="vma")
_CMDLINE_VMA = dict(hp_lock="vma")

KERNEL_LIST: tuple[Kernel, ...] = (
    _K_2636,
    _K_419,
    replace(_K_419, name="4.19+rfc-v1", changed="RFC v1: drop mmap_sem before all read-side "
            "IO, keep the page for the retry", policy="rfc-v1",
            locked=POLICIES["rfc-v1"].locked, keeps_page=True, commits=()),
    replace(_K_419, name="4.19+rfc-v2", changed="RFC v2: drop before all IO and "
            "->page_mkwrite, keep and re-validate the page", policy="rfc-v2",
            locked=POLICIES["rfc-v2"].locked, keeps_page=True, commits=()),
    _K_51, _K_55, _K_57, _K_511, _K_64, _K_67, _K_618,
    replace(_K_618, name="6.18+vma-retry", version="6.18 + 2026 series",
            changed="the retry after IO runs under the per-VMA lock (Barry Song et al., "
            "v2, 2026-04-30)", commits=(), **_VMA_RETRY),
    replace(_K_618, name="6.18+cmdline-vma", version="6.18 + 2026 series",
            changed="__access_remote_vm under the per-VMA lock: /proc/pid/cmdline reads "
            "take no mmap_lock unless they fall back (Rik van Riel, v2, 2026-06-24)",
            commits=(), **_CMDLINE_VMA),
    replace(_K_618, name="6.18+vma-retry+cmdline-vma", version="6.18 + both 2026 series",
            changed="both 2026 series together", commits=(), **_VMA_RETRY, **_CMDLINE_VMA),
)
KERNELS = {k.name: k for k in KERNEL_LIST}
