"""Where a callgrind profile of the core spends its instructions, by Cython source.

A developer tool for work on the core (``kernels_pyx/``).  Callgrind attributes each
instruction to a line of the C that Cython generated; this maps that line back to the
``.pxi``/``.pxd`` function it came from (through Cython's ``/* "file":line`` markers, the
last one above the line) and prints the instructions per event of each, largest first::

    PYTHONPATH=. valgrind --tool=callgrind --dump-instr=no --collect-atstart=no \\
        --toggle-collect='__pyx_pw_5mcsim_13_engine_plain_7run_block' \\
        --callgrind-out-file=x.out python3.11 one_block.py reference
    python bench/cgsource.py x.out 309945 --c kernels_pyx/engine_plain.c

(``one_block.py`` and the event counts: docs/benchmarks.md, "Core optimisations", round 3
on.)  Counts are self costs, inlined code included: a function inlined into the event
loop is counted where its lines are, which is what ``callgrind_annotate``'s per-function
table cannot show.  Lines of the generated C before Cython's first marker are the C the
``.pxd``/``.pxi`` files carry verbatim (the PCG64DXSM step, the histogram's loops): they
count under their C function, ``C:name``.  Code of other objects (numpy's ziggurat, libm)
counts under its own file and function.

>>> cost_by_line(['events: Ir', 'fl=(1) a.c', 'fn=(1) f', '3 10', '+2 5',
...               'cfn=(2) g', 'calls=1 9', '5 100', '* 1'])
{('a.c', 'f', 3): 10, ('a.c', 'f', 5): 6}
"""
from __future__ import annotations

import argparse
import bisect
import re
import sys
from collections import Counter
from pathlib import Path

MARKER = re.compile(r'/\* "([^"]+)":(\d+)')
CYTHON_DEF = re.compile(r"\s*(?:cdef|cpdef|def)\s+(?:inline\s+)?[\w*\s\[\],]*?\b(\w+)\s*\(")
C_DEF = re.compile(r"^\s*static\b[^;=(]*?\b(\w+)\s*\([^;]*$")


def _position(field: str, last: int) -> int:
    if field == "*":
        return last
    if field[0] in "+-":
        return last + int(field)
    return int(field)


def cost_by_line(lines, event: str | None = None) -> dict:
    """Self cost of ``event`` (default the profile's first, Ir) per (file, function,
    line) of a callgrind output written with ``--dump-instr=no`` (positions: line).  A call's cost line (the one after
    ``calls=``) is the callee's inclusive cost: it moves the position, but is not counted."""
    names: dict[tuple[str, str], str] = {}
    costs: Counter = Counter()
    fl = fi = fn = None
    last, skip_next, column = 0, False, 1

    def name(kind: str, value: str) -> str:
        m = re.match(r"\((\d+)\)(?: (.*))?$", value)
        if m is None:
            return value
        if m.group(2) is not None:
            names[kind, m.group(1)] = m.group(2)
        return names[kind, m.group(1)]

    for raw in lines:
        line = raw.rstrip("\n")
        if not line or line.startswith("#"):
            continue
        if line.startswith("events:") and event is not None:
            listed = line.split(":", 1)[1].split()
            if event not in listed:
                raise ValueError(f"event {event!r}: not in this profile; allowed: "
                                 f"{', '.join(listed)}")
            column = 1 + listed.index(event)
        if line.startswith("positions:") and line.split(":", 1)[1].split() != ["line"]:
            raise ValueError(f"positions {line.split(':', 1)[1].strip()!r}: only 'line' "
                             "(run callgrind with --dump-instr=no)")
        key, eq, value = line.partition("=")
        if eq and key in ("fl", "fi", "fe"):
            fi = name("file", value)
            if key == "fl":
                fl = fi
        elif eq and key == "fn":
            fn, fi = name("fn", value), fl
        elif eq and key in ("cfl", "cfi"):
            name("file", value)
        elif eq and key == "cfn":
            name("fn", value)
        elif eq and key in ("ob", "cob"):
            name("ob", value)
        elif eq and key == "calls":
            skip_next = True
        elif line[0].isdigit() or line[0] in "+-*":
            fields = line.split()
            last = _position(fields[0], last)
            if skip_next:
                skip_next = False
            elif len(fields) > column:
                costs[fi, fn, last] += int(fields[column])
    return dict(costs)


class SourceMap:
    """Line of a generated C file -> the Cython function (``file.pxi:name``) or, before
    the first marker, the C function (``C:name``) it belongs to."""

    def __init__(self, c_path: Path, roots=()):
        self.c_lines = c_path.read_text().split("\n")
        self.roots = [c_path.parent, *roots]
        self.markers: list[tuple[int, str, int]] = []     # (C line, source, source line)
        for i, text in enumerate(self.c_lines, 1):
            m = MARKER.search(text)
            if m:
                self.markers.append((i, m.group(1), int(m.group(2))))
        self._starts = [c for c, _, _ in self.markers]
        self._defs: dict[str, list[tuple[int, str]]] = {}

    def _source_defs(self, source: str) -> list[tuple[int, str]]:
        if source not in self._defs:
            defs = []
            for root in self.roots:
                for path in (root / source, root / Path(source).name):
                    if path.is_file():
                        for i, text in enumerate(path.read_text().split("\n"), 1):
                            m = CYTHON_DEF.match(text)
                            if m and not text.lstrip().startswith("cdef struct"):
                                defs.append((i, m.group(1)))
                        break
                if defs:
                    break
            self._defs[source] = defs
        return self._defs[source]

    def where(self, c_line: int) -> str:
        k = bisect.bisect_right(self._starts, c_line) - 1
        if k < 0:                         # the verbatim C above Cython's code
            for i in range(min(c_line, len(self.c_lines)) - 1, -1, -1):
                m = C_DEF.match(self.c_lines[i])
                if m:
                    return f"C:{m.group(1)}"
            return "C:?"
        _, source, source_line = self.markers[k]
        defs = self._source_defs(source)
        j = bisect.bisect_right([i for i, _ in defs], source_line) - 1
        return f"{Path(source).name}:{defs[j][1] if j >= 0 else '?'}"


def breakdown(costs: dict, c_path: Path, roots=()) -> Counter:
    """Cost per Cython/C function for the lines of ``c_path``; other files per
    (file, function)."""
    smap = SourceMap(c_path, roots)
    total: Counter = Counter()
    for (file, fn, line), cost in costs.items():
        if file is not None and Path(file).name == c_path.name:
            total[smap.where(line)] += cost
        else:
            total[f"{Path(file).name if file else '?'}:{fn}"] += cost
    return total


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("profile", type=Path, help="callgrind output (--dump-instr=no)")
    parser.add_argument("events", type=int, help="events in the profiled run (> 0)")
    parser.add_argument("--c", type=Path, default=Path("kernels_pyx/engine_plain.c"),
                        help="the generated C of the profiled module")
    parser.add_argument("--top", type=int, default=40, help="rows to print")
    parser.add_argument("--event", default=None,
                        help="the profile's event to count (default its first, Ir; e.g. "
                        "Bcm, mispredicted conditional branches, with --branch-sim=yes)")
    args = parser.parse_args(argv)
    if args.events <= 0:
        parser.error(f"events: {args.events}; allowed: a count above 0")
    for path in (args.profile, args.c):
        if not path.is_file():
            parser.error(f"{path}: no such file")
    with open(args.profile) as f:
        try:
            costs = cost_by_line(f, args.event)
        except ValueError as exc:
            parser.error(str(exc))
    total = breakdown(costs, args.c, roots=[Path.cwd()])
    grand = sum(total.values())
    what = args.event or "instructions"
    print(f"{grand / args.events:8.2f}  {what} per event ({grand:,} in all)")
    for where, cost in total.most_common(args.top):
        print(f"{cost / args.events:8.2f}  {where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
