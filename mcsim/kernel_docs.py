"""The presets × behaviours table of docs/model.md §11.1, generated from
:data:`mcsim.kernels.KERNEL_LIST` so the document cannot drift from the rows the engines
run (tests/test_docs_model.py compares the two).

>>> lines = presets_table()
>>> lines[0].split(" | ")[:3]
['| kernel', 'rwsem era', 'miss: submit']
>>> [ln.split(" | ")[0] for ln in lines[2:5]]
['| `2.6.36`', '| `4.19`', '| `4.19+rfc-v1`']
>>> row = dict(zip(PRESET_COLUMNS, presets_table()[2 + 10].strip("|").split(" | ")))
>>> row["kernel"].strip(), row["pass-1 lock"], row["retry lock"], row["HP reads: acquisitions"]
('`6.18`', 'VMA', 'mmap', '2')
"""
from __future__ import annotations

from .kernels import KERNEL_LIST, Kernel
from .policies import STEP_COLUMNS

#: Step columns as the §3 policies table names them, plus the dirty-throttling step.
STEP_HEADINGS = {"miss_submit": "miss: submit", "miss_io": "miss: IO wait",
                 "ra_submit": "async RA submit", "locked_wait": "locked-page wait",
                 "mkwrite": "mkwrite", "dirty": "dirty throttling"}

PRESET_COLUMNS = ("kernel", "rwsem era", *(STEP_HEADINGS[c] for c in STEP_COLUMNS),
                  "page kept", "dirty drop ends fault", "pass-1 lock", "retry lock",
                  "retry TRIED", "VMA writers", "HP reads: acquisitions", "HP lock")

_LOCK_NAMES = {"mmap": "mmap", "vma": "VMA"}


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def preset_cells(k: Kernel) -> list[str]:
    """One preset as table cells, in :data:`PRESET_COLUMNS` order.

    >>> from mcsim.kernels import KERNELS
    >>> preset_cells(KERNELS["5.5"])[2:8]
    ['–', '–', '–', '–', 'L', '–']
    """
    steps = ["L" if held else "–" for held in k.locked]
    return [f"`{k.name}`", f"`{k.era}`", *steps, _yes(k.keeps_page),
            _yes(k.dirty_completes), _LOCK_NAMES[k.first_lock], _LOCK_NAMES[k.retry_lock],
            "if major" if k.tried_on_major else "always", _yes(k.vma_writers),
            str(k.hp_acquisitions), _LOCK_NAMES[k.hp_lock]]


def presets_table(kernels=KERNEL_LIST) -> list[str]:
    """The Markdown table (header, rule, one line per preset) between
    ``<!-- kernels:begin -->`` and ``<!-- kernels:end -->`` in docs/model.md."""
    lines = ["| " + " | ".join(PRESET_COLUMNS) + " |",
             "|" + "---|" * len(PRESET_COLUMNS)]
    lines += ["| " + " | ".join(preset_cells(k)) + " |" for k in kernels]
    return lines
