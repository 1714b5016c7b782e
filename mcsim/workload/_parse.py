"""Reading a workload description: ``${var}`` substitution, keys, kinds and values.

The result is the *normalized* structure: the same tables as the TOML file, with every
default filled in, every distribution in its canonical text (``str`` of a
:class:`~mcsim.units.Dist`) and every parameter in its canonical value, so that two
descriptions of the same workload normalize to the same JSON text.  References between
names (a VMA, a process) are checked later, when the structure is expanded
(:mod:`mcsim.workload._expand`).
"""
from __future__ import annotations

import re
from typing import Any, Mapping

from ..errors import ParameterError
from ..policies import FAULT_KINDS
from ..scenario import TRIAL_KINDS
from ..units import Dist, parse_dist

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
VAR_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
VAR_RE = re.compile(r"\$\{([^}]*)\}")
MAX_NAME = 64
#: Most copies a ``count`` may ask for (the limits of mcsim.scenario bound the totals).
MAX_COUNT = 256

TOP_KEYS = ("workload", "vars", "params", "open", "process")
WORKLOAD_KEYS = ("name", "description", "trial")
OPEN_KEYS = ("process",)
PROCESS_KEYS = ("name", "count", "vmas", "thread")
THREAD_KEYS = ("name", "count", "start", "program")
#: The keys of each step kind (``step`` and ``think`` are common to all).
STEP_KEYS = {
    "fault": ("vma", "kind", "lead"),
    "write": ("vma", "hold"),
    "cmdline": ("process", "hold"),
    "scan": ("processes", "hold"),
    "bg_io": (),
}
FAULT_CHOICES = ("mixed", *FAULT_KINDS)
ZERO = "const(0)"


def _keys(table, path: str, allowed: tuple, what: str) -> dict:
    """``table`` as a dict, refusing anything but a table and any key not in ``allowed``."""
    if not isinstance(table, Mapping):
        raise ParameterError(path, table, f"a table of {what} with keys "
                             + ", ".join(allowed), "is not a table")
    for key, value in table.items():
        if key not in allowed:
            raise ParameterError(f"{path}.{key}" if path else str(key), value,
                                 f"keys of {what}: " + ", ".join(allowed),
                                 "is not a known key")
    return dict(table)


def _list(value, path: str, what: str) -> list:
    if not isinstance(value, list):
        raise ParameterError(path, value, f"a list of {what}", "is not a list")
    return value


def _name(value, path: str) -> str:
    if not isinstance(value, str) or not NAME_RE.match(value) or len(value) > MAX_NAME:
        raise ParameterError(path, value, f"a name of 1 to {MAX_NAME} characters a-z, 0-9 "
                             "and -, such as \"target\"", "is not a name")
    return value


def _count(value, path: str) -> int:
    """A copy count: an integer (or its text, as a command-line var gives) >= 1."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_COUNT:
        raise ParameterError(path, value, f"an integer from 1 to {MAX_COUNT}",
                             "is out of range" if isinstance(value, int) else "is not an integer")
    return value


def _dist(value, path: str) -> str:
    return str(parse_dist(value, path))


# --- ${var} substitution -------------------------------------------------------------------

def resolve_vars(declared, given: Mapping | None) -> dict:
    """The workload's variables: ``[vars]`` overridden by ``given``, every name declared.

    >>> resolve_vars({"n": 8, "think": "1ms"}, {"n": 4})
    {'n': 4, 'think': '1ms'}
    >>> resolve_vars({"n": 8}, {"m": 4})
    Traceback (most recent call last):
    ...
    mcsim.errors.ParameterError: vars.m: 4 is not a variable of this workload; allowed: one of n
    """
    declared = {} if declared is None else declared
    if not isinstance(declared, Mapping):
        raise ParameterError("vars", declared, "a table of variables such as {n = 8}",
                             "is not a table")
    out = {}
    for name, value in declared.items():
        if not isinstance(name, str) or not VAR_NAME_RE.match(name):
            raise ParameterError(f"vars.{name}", value, "a variable name of letters, digits "
                                 "and _ (not starting with a digit)", "is not a name")
        out[name] = _var_value(value, f"vars.{name}")
    for name, value in (given or {}).items():
        if name not in out:
            raise ParameterError(f"vars.{name}", value, "one of " + (", ".join(out) or
                                 "none (the workload declares no [vars])"),
                                 "is not a variable of this workload")
        out[name] = _var_value(value, f"vars.{name}")
    return out


def _var_value(value, path: str):
    if isinstance(value, (str, int, float, bool)):
        return value
    raise ParameterError(path, value, "a string, number or boolean", "is not a value")


def substitute(node, variables: Mapping, path: str = ""):
    """``node`` with every ``${name}`` replaced: a whole-string reference keeps the
    variable's type, one inside a longer string is replaced by its text.

    >>> substitute({"think": "${t}", "n": "${n}", "s": "p-${n}"}, {"t": "1ms", "n": 3})
    {'think': '1ms', 'n': 3, 's': 'p-3'}
    """
    if isinstance(node, Mapping):
        return {k: substitute(v, variables, f"{path}.{k}" if path else str(k))
                for k, v in node.items()}
    if isinstance(node, list):
        return [substitute(v, variables, f"{path}[{i}]") for i, v in enumerate(node)]
    if not isinstance(node, str) or "${" not in node:
        return node
    for name in VAR_RE.findall(node):
        if name not in variables:
            raise ParameterError(path, node, "${name} of a variable defined in [vars]: "
                                 + (", ".join(variables) or "none defined"),
                                 f"uses an undefined variable ${{{name}}}")
    whole = VAR_RE.fullmatch(node)
    if whole:
        return variables[whole.group(1)]
    return VAR_RE.sub(lambda m: str(variables[m.group(1)]), node)


# --- tables ---------------------------------------------------------------------------------

def normalize(raw: Mapping, variables: Mapping) -> dict:
    """The normalized structure of a raw description (``[vars]`` already resolved).

    >>> n = normalize({"workload": {"name": "w", "description": "d"},
    ...                "process": [{"name": "p", "vmas": ["v"], "thread": [{"name": "t",
    ...                  "program": [{"step": "fault", "vma": "v", "think": "1ms"}]}]}]}, {})
    >>> n["workload"]["trial"], n["process"][0]["thread"][0]["program"][0]
    ('window', {'step': 'fault', 'vma': 'v', 'kind': 'mixed', 'think': 'const(1ms)'})
    """
    if not isinstance(raw, Mapping):
        raise ParameterError("workload", raw, "a dict (TOML tables) with [workload] and "
                             "[[process]] tables", "is not a workload")
    raw = _keys(raw, "", TOP_KEYS, "a workload")
    body = substitute({k: v for k, v in raw.items() if k != "vars"}, variables)
    if "workload" not in body:
        raise ParameterError("workload", None, "a [workload] table with name and "
                             "description", "is missing")
    out: dict[str, Any] = {"workload": None, "params": _params(body.get("params", {}))}
    if "open" in body:
        out["open"] = _keys(body["open"], "open", OPEN_KEYS, "the open stream")
        if "process" in out["open"]:
            out["open"]["process"] = _name(out["open"]["process"], "open.process")
    processes = _list(body.get("process", []), "process", "[[process]] tables")
    out["process"] = [_process(p, f"process[{i}]") for i, p in enumerate(processes)]
    has_threads = any(p["thread"] for p in out["process"])
    out["workload"] = _workload(body["workload"], has_threads)
    if "open" not in out and not has_threads:
        raise ParameterError("workload", out["workload"]["name"], "an [open] stream or at "
                             "least one [[process.thread]]", "has nothing to simulate")
    return out


def _workload(table, has_threads: bool) -> dict:
    t = _keys(table, "workload", WORKLOAD_KEYS, "[workload]")
    for key in ("name", "description"):
        if key not in t:
            raise ParameterError(f"workload.{key}", None, "a name such as \"ps-scan\" and a "
                                 "one-sentence description", "is missing")
    desc = t["description"]
    if not isinstance(desc, str) or not desc.strip() or "\n" in desc.strip():
        raise ParameterError("workload.description", desc, "one sentence on one line",
                             "is not a description")
    trial = t.get("trial", "window" if has_threads else "cycle")
    if trial not in TRIAL_KINDS:
        raise ParameterError("workload.trial", trial, "one of " + ", ".join(TRIAL_KINDS))
    if trial == "cycle" and has_threads:
        raise ParameterError("workload.trial", trial, "\"window\" for a workload with "
                             "threads (closed loops never empty the system, so regenerative "
                             "cycles never end)", "is impossible")
    return {"name": _name(t["name"], "workload.name"), "description": desc.strip(),
            "trial": trial}


def _params(table) -> dict:
    """``[params]`` in canonical values, each checked as ``mcsim run --set`` checks it."""
    from ..params import check_param

    table = _keys(table, "params", tuple(table) if isinstance(table, Mapping) else (),
                  "mcsim parameters")
    out = {}
    for name, value in table.items():
        try:
            canon = check_param(name, value)
        except ParameterError as err:
            raise ParameterError(f"params.{err.param}", err.value, err.allowed,
                                 err.problem) from None
        out[name] = str(canon) if isinstance(canon, Dist) else canon
    return out


def _process(table, path: str) -> dict:
    t = _keys(table, path, PROCESS_KEYS, "a [[process]]")
    if "name" not in t:
        raise ParameterError(f"{path}.name", None, "a unique process name", "is missing")
    out = {"name": _name(t["name"], f"{path}.name")}
    if "count" in t:
        out["count"] = _count(t["count"], f"{path}.count")
    vmas = _list(t.get("vmas", []), f"{path}.vmas", "VMA names")
    out["vmas"] = [_name(v, f"{path}.vmas[{i}]") for i, v in enumerate(vmas)]
    for i, v in enumerate(out["vmas"]):
        if v in out["vmas"][:i]:
            raise ParameterError(f"{path}.vmas[{i}]", v, "VMA names unique within the "
                                 "process", "is a duplicate")
    threads = _list(t.get("thread", []), f"{path}.thread", "[[process.thread]] tables")
    out["thread"] = [_thread(th, f"{path}.thread[{i}]") for i, th in enumerate(threads)]
    for i, th in enumerate(out["thread"]):
        if th["name"] in [o["name"] for o in out["thread"][:i]]:
            raise ParameterError(f"{path}.thread[{i}].name", th["name"], "thread names "
                                 "unique within the process", "is a duplicate")
    return out


def _thread(table, path: str) -> dict:
    t = _keys(table, path, THREAD_KEYS, "a [[process.thread]]")
    for key in ("name", "program"):
        if key not in t:
            raise ParameterError(f"{path}.{key}", None, "a thread name and a program "
                                 "(a list of steps)", "is missing")
    out = {"name": _name(t["name"], f"{path}.name")}
    if "count" in t:
        out["count"] = _count(t["count"], f"{path}.count")
    out["start"] = _dist(t.get("start", 0), f"{path}.start")
    program = _list(t["program"], f"{path}.program", "steps such as {step = \"fault\", "
                    "vma = \"data\"}")
    if not program:
        raise ParameterError(f"{path}.program", program, "a list of 1 or more steps",
                             "is empty")
    out["program"] = [_step(s, f"{path}.program[{i}]") for i, s in enumerate(program)]
    return out


def _step(table, path: str) -> dict:
    if not isinstance(table, Mapping):
        raise ParameterError(path, table, "a step table such as {step = \"fault\", vma = "
                             "\"data\"}", "is not a table")
    kind = table.get("step")
    if kind not in STEP_KEYS:
        raise ParameterError(f"{path}.step", kind, "one of " + ", ".join(STEP_KEYS),
                             "is not a step kind" if "step" in table else "is missing")
    t = _keys(table, path, ("step", *STEP_KEYS[kind], "think"), f"a {kind} step")
    out: dict[str, Any] = {"step": kind}
    if "vma" in t:
        out["vma"] = _name(t["vma"], f"{path}.vma")
    if kind == "fault":
        fault = t.get("kind", "mixed")
        if fault not in FAULT_CHOICES:
            raise ParameterError(f"{path}.kind", fault, "one of " + ", ".join(FAULT_CHOICES),
                                 "is not a fault kind")
        out["kind"] = fault
    if kind == "cmdline":
        if "process" not in t:
            raise ParameterError(f"{path}.process", None, "the name of the process whose "
                                 "cmdline is read", "is missing")
        out["process"] = _name(t["process"], f"{path}.process")
    if kind == "scan":
        out["processes"] = _scan_list(t.get("processes"), f"{path}.processes")
    if "hold" in t:
        out["hold"] = _dist(t["hold"], f"{path}.hold")
    if "lead" in t:                       # kept only when not 0, so that a workload
        lead = _dist(t["lead"], f"{path}.lead")   # without lead keeps its hash
        if lead != ZERO:
            out["lead"] = lead
    out["think"] = _dist(t.get("think", 0), f"{path}.think")
    return out


def _scan_list(value, path: str):
    if value == "all":
        return "all"
    if not isinstance(value, list) or not value:
        raise ParameterError(path, value, "\"all\" or a non-empty list of process names",
                             "is missing" if value is None else "is not a process list")
    return [_name(v, f"{path}[{i}]") for i, v in enumerate(value)]
