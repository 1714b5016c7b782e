"""One line of a trace, as ``trace``/``trace_pipe`` print it or as ``trace-cmd report``
prints it, into an :class:`Event`.  A ``trace-cmd report`` of several buffers prefixes
each line with the buffer's name (``mcsim-42:``), which is skipped.

The two formats share the task column (``comm-pid``), the CPU in brackets and a timestamp
in seconds; they differ in the optional columns (irq flags, a tgid in parentheses), the
timestamp's precision (µs from tracefs, ns from ``trace-cmd report -t`` or from mcsim's
export) and how syscalls print (``sys_pread64(fd: 3, ...)`` / ``sys_pread64 -> 0x1f``
from tracefs, ``sys_enter_pread64: fd: ...`` / ``sys_exit_pread64: 0x1f`` from
trace-cmd).  Timestamps become integer nanoseconds without a float in between.

>>> ev = parse_line("  ps-812  [001] ..... 11.000123: mmap_lock_released: "
...                 "mm=000000003c7f2a51 memcg_id=0 write=false")
>>> ev.kind, ev.comm, ev.pid, ev.ts, ev.fields["write"]
('event', 'ps', 812, 11000123000, 'false')
>>> parse_line("  ps-812  [001] ..... 11.5: sys_pread64(fd: 3, buf: 0, count: 1, pos: 0)").name
'sys_enter_pread64'
>>> parse_line("mcsim-7:  ps-812 [001] 11.000000001: sys_exit_pread64:  0x4d").fields
{'ret': '0x4d'}
>>> parse_line("CPU:0 [1921 EVENTS DROPPED]").lost, parse_line("CPU:1 [LOST 5 EVENTS]").lost
(1921, 5)
>>> parse_line("# tracer: nop").kind, parse_line("garbage").kind
('comment', 'malformed')
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

# comm may contain spaces and dashes: the pid is the last "-digits" before the CPU column.
_LINE = re.compile(
    r"^\s*(?:(?P<buffer>[^\s:]+):\s+)?(?P<comm>.*?)-(?P<pid>\d+)\s+(?:\(\s*[-\d]+\)\s+)?\[(?P<cpu>\d+)\]\s+"
    r"(?:(?P<flags>[^\s:]{4,6})\s+)?(?P<ts>\d+(?:\.\d+)?):\s+(?P<rest>.*?)\s*$")
_ENTER = re.compile(r"^sys_(?P<call>\w+)\((?P<args>.*)\)$")
_EXIT = re.compile(r"^sys_(?P<call>\w+) -> (?P<ret>\S+)$")
_NAMED = re.compile(r"^(?P<name>[\w:]+):\s*(?P<body>.*)$")
_FIELD = re.compile(r"(\w+)[=:]\s*(\S+?),?(?=\s|$)")
_LOST = re.compile(r"CPU:?\s*(\d+)\s*\[(?:LOST (\d+) EVENTS|(\d+) EVENTS DROPPED)\]",
                   re.IGNORECASE)


@dataclass
class Event:
    """A parsed line.  ``kind``: ``event`` (a trace event: ``name``, ``fields``),
    ``comment`` (``#`` lines, trace-cmd's header lines), ``lost`` (the kernel's
    ``[LOST n EVENTS]``, ``lost`` = n), ``blank`` or ``malformed``."""

    kind: str
    comm: str = ""
    pid: int = -1
    cpu: int = -1
    ts: int = 0
    name: str = ""
    body: str = ""
    fields: dict = field(default_factory=dict)
    lost: int = 0
    #: The irq-info column (``d.h3.``; empty when the line has none): its third
    #: character says the context, ``h``/``H`` hard interrupt, ``s`` soft interrupt,
    #: ``z``/``Z`` NMI, ``.`` a task (kernel/trace/trace_output.c, trace_print_lat_fmt()).
    flags: str = ""


def parse_ts(text: str) -> int:
    """Seconds with any number of decimals (at most 9) as integer nanoseconds.

    >>> parse_ts("12.000001"), parse_ts("3.123456789"), parse_ts("7")
    (12000001000, 3123456789, 7000000000)
    """
    sec, _, frac = text.partition(".")
    if len(frac) > 9:
        raise ValueError(f"timestamp {text}: more than 9 decimals")
    return int(sec) * 1_000_000_000 + int((frac or "0").ljust(9, "0"))


def parse_fields(body: str) -> dict:
    """``key=value`` (tracefs) or ``key: value,`` (trace-cmd, syscalls) pairs.

    >>> parse_fields("mm=0xffff8881 memcg_id=0 write=true success=false")
    {'mm': '0xffff8881', 'memcg_id': '0', 'write': 'true', 'success': 'false'}
    >>> parse_fields("fd: 0x00000003, buf: 0x7ffd, count: 0x1000")
    {'fd': '0x00000003', 'buf': '0x7ffd', 'count': '0x1000'}
    """
    return {k: v for k, v in _FIELD.findall(body)}


#: trace-cmd report's header lines (before the first event).
_HEADER = re.compile(r"^(version\s*=|cpus=|CPU \d+ is empty|trace-cmd:|"
                     r"[\w./-]+\.dat:|CPU\d+ data recorded)")


def parse_line(line: str) -> Event:
    """One line of text into an :class:`Event` (never raises)."""
    text = line.rstrip("\n")
    if not text.strip():
        return Event("blank")
    stripped = text.lstrip()
    if stripped.startswith("#") or _HEADER.match(stripped):
        return Event("comment", body=stripped)
    lost = _LOST.search(text)
    if lost and not _LINE.match(text):
        return Event("lost", cpu=int(lost.group(1)), lost=int(lost.group(2) or lost.group(3)))
    m = _LINE.match(text)
    if not m:
        return Event("malformed", body=text)
    try:
        ts = parse_ts(m["ts"])
    except ValueError:
        return Event("malformed", body=text)
    ev = Event("event", comm=m["comm"].strip(), pid=int(m["pid"]), cpu=int(m["cpu"]), ts=ts,
               flags=m["flags"] or "")
    rest = m["rest"]
    if (e := _ENTER.match(rest)) and not rest.startswith("sys_enter"):
        ev.name, ev.body = "sys_enter_" + e["call"], e["args"]
    elif (x := _EXIT.match(rest)):
        ev.name, ev.body = "sys_exit_" + x["call"], x["ret"]
        ev.fields = {"ret": x["ret"]}
        return ev
    elif (n := _NAMED.match(rest)):
        ev.name, ev.body = n["name"], n["body"]
        if ev.name.startswith("sys_exit_"):
            ev.fields = {"ret": ev.body.split()[0] if ev.body.split() else ""}
            return ev
    else:
        return Event("malformed", body=text)
    ev.fields = parse_fields(ev.body)
    return ev
