"""Tables of the kernel presets for ``mcsim kernels``: every preset's behaviours in 80
columns, what each changed, and one preset in words.

>>> from mcsim.kernels import KERNEL_LIST
>>> print(render_text(kernels_table(KERNEL_LIST[:2]), width=80).splitlines()[4])
2.6.36  4.x  LLLLLL  no    mmap/mmap  all    no     1×mmap
"""
from __future__ import annotations

from rich import box
from rich.table import Table
from rich.text import Text

from .render import render_text  # noqa: F401  (the docstring's examples)

#: What the columns of :func:`kernels_table` mean (its caption).
KERNEL_NOTES = (
    "steps: miss_submit miss_io ra_submit locked_wait mkwrite dirty; L under the pass's "
    "lock, - dropped before it (then VM_FAULT_RETRY), c dropped and the fault completes",
    "locks: what a fault's first and retry passes take (vma: the per-VMA lock, mmap_lock "
    "when the VMA is write-locked); TRIED: which retry passes never drop (all, or after a "
    "VMA-locked pass only if it was major)",
    "VMA write: writers vma_start_write() the VMA they change, waiting for its readers "
    "under mmap_lock(W); HP read: lock acquisitions per cmdline read() x the lock taken",
    "`mcsim kernels NAME`: one preset in full; --json: the data",
)


def kernel_steps(kernel) -> str:
    """The step columns as one string: ``L`` held, ``-`` dropped, ``c`` for a dropped
    dirty-throttling step that completes the fault.

    >>> from mcsim.kernels import KERNELS
    >>> kernel_steps(KERNELS["4.19"]), kernel_steps(KERNELS["5.5"]), kernel_steps(KERNELS["6.18"])
    ('L-L-LL', '----L-', '----Lc')
    """
    from ..policies import STEP_COLUMNS

    def flag(column, held):
        if held:
            return "L"
        return "c" if column == "dirty" and kernel.dirty_completes else "-"

    return "".join(flag(c, held) for c, held in zip(STEP_COLUMNS, kernel.locked))


def kernels_table(kernels) -> Table:
    """One line per preset with every behaviour, in 80 columns (legend in the caption)."""
    table = Table(title="kernel presets (--kernel NAME): behaviours", title_justify="left",
                  box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1),
                  collapse_padding=True, caption="\n".join(KERNEL_NOTES),
                  caption_justify="left")
    for header in ("kernel", "era", "steps", "page\nkept", "locks\n1st/retry", "TRIED",
                   "VMA\nwrite", "HP\nread"):
        table.add_column(header, no_wrap=header == "kernel")
    for k in kernels:
        table.add_row(k.name, k.era, kernel_steps(k), "yes" if k.keeps_page else "no",
                      f"{k.first_lock}/{k.retry_lock}", "major" if k.tried_on_major else "all",
                      "yes" if k.vma_writers else "no", f"{k.hp_acquisitions}×{k.hp_lock}")
    return table


def kernel_history_table(kernels) -> Table:
    """What each preset changed on the path, with its version and commits."""
    table = Table(title="what each kernel changed on the path HP reader → mmap_lock → LP "
                  "fault → slow IO", title_justify="left", box=box.SIMPLE_HEAD,
                  show_edge=False, pad_edge=False)
    table.add_column("kernel", no_wrap=True)
    table.add_column("what changed (version; commits)")
    for k in kernels:
        where = [k.version] if k.version != k.name else []
        where += list(k.commits)
        table.add_row(k.name, Text(k.changed + (f" ({'; '.join(where)})" if where else "")))
    return table


def kernel_base(kernel, kernels):
    """The preset ``kernel`` is best read against: the one its name extends
    (``6.18+vma-retry`` -> ``6.18``), else the one before it; None for the first.

    >>> from mcsim.kernels import KERNEL_LIST, KERNELS
    >>> [kernel_base(KERNELS[n], KERNEL_LIST).name for n in ("6.18+vma-retry", "5.1")]
    ['6.18', '4.19']
    """
    by_name = {k.name: k for k in kernels}
    if "+" in kernel.name:
        return by_name.get(kernel.name.split("+")[0])
    plain = [k for k in kernels if "+" not in k.name]
    i = plain.index(kernel)
    return plain[i - 1] if i else None


def _held(held: bool, column: str, kernel) -> str:
    if held:
        return "under the pass's lock"
    if column == "dirty" and kernel.dirty_completes:
        return "lock dropped before it; the fault then completes (no retry)"
    return "lock dropped before it, then VM_FAULT_RETRY"


def kernel_details(kernel) -> list[tuple[str, str]]:
    """``(field, meaning)`` lines describing every behaviour of one preset."""
    from ..kernels import ERA_RULES
    from ..policies import STEP_COLUMNS

    rules = ERA_RULES[kernel.era]
    era = ", ".join(text for rule, text in (
        ("handoff", "handoff bit"), ("wake_all_readers", "a wake-up grants every queued "
                                     "reader"), ("reader_steal", "reader lock stealing"))
        if rules[rule]) or "rwsem-xadd: no handoff, consecutive readers woken"
    hp_lock = "the per-VMA lock (mmap_lock(R) on a fallback)" if kernel.hp_lock == "vma" \
        else "mmap_lock(R)"
    lock_words = {"mmap": "mmap_lock(R)", "vma": "the per-VMA lock (mmap_lock(R) when the "
                  "VMA is write-locked)"}
    lines = [("era", f"{kernel.era}: {era}"),
             ("nearest 2018 policy", kernel.policy)]
    lines += [(f"step {c}", _held(held, c, kernel))
              for c, held in zip(STEP_COLUMNS, kernel.locked)]
    lines += [
        ("page kept", "yes: the retry re-validates the page kept by pass 1" if
         kernel.keeps_page else "no: the retry looks the page up again"),
        ("first pass takes", lock_words[kernel.first_lock]),
        ("retry pass takes", lock_words[kernel.retry_lock]),
        ("TRIED retries", "after a VMA-locked pass, only if that pass was major; "
         "otherwise every retry" if kernel.tried_on_major else "every retry pass (it never "
         "drops its lock)"),
        ("VMA writers", "a writer vma_start_write()s the VMA it changes, waiting for its "
         "readers under mmap_lock(W)" if kernel.vma_writers else "no per-VMA locks"),
        ("HP read", f"{kernel.hp_acquisitions} acquisition"
         f"{'s' if kernel.hp_acquisitions > 1 else ''} of {hp_lock} per cmdline read()"),
    ]
    return lines


def kernel_detail_renderables(kernel, kernels) -> list:
    """``mcsim kernels NAME``: what changed, the commits, every behaviour, and which
    behaviours differ from the preset it is best read against."""
    base = kernel_base(kernel, kernels)
    head = Text(f"kernel {kernel.name}" + (f" ({kernel.version})" if kernel.version !=
                                           kernel.name else "") + f": {kernel.changed}\n"
                f"commits: {', '.join(kernel.commits) or '-'}")
    details = kernel_details(kernel)
    before = dict(kernel_details(base)) if base is not None else {}
    changed = {name for name, text in details if base is not None and before[name] != text}
    caption = None
    if base is not None:
        caption = (f"* differs from {base.name}" if changed else
                   f"no behaviour differs from {base.name}")
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, caption=caption,
                  caption_justify="left")
    table.add_column("behaviour", no_wrap=True)
    table.add_column("this kernel")
    for name, text in details:
        table.add_row(Text(("* " if name in changed else "  ") + name), Text(text))
    return [head, table]
