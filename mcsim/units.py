"""Durations, rates and service-time distributions as users write them.

Internally every time is an int of nanoseconds.  Users write ``50us``, ``8ms``,
``1.5s``, ``exp(20us)`` or ``ssd``; these functions turn that into numbers and
raise :class:`~mcsim.errors.ParameterError` naming the parameter for anything
else.

>>> parse_duration("1.5 ms"), format_duration(8_050_000)
(1500000, '8.05 ms')
>>> parse_dist("exp(20us)")
Dist(kind='exp', a=20000.0, b=0.0)
"""

from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from .errors import ParameterError

#: Nanoseconds per unit.  Both the micro sign (U+00B5) and Greek mu (U+03BC) mean micro.
NS_PER_UNIT = {"ns": 1, "us": 1_000, "\u00b5s": 1_000, "\u03bcs": 1_000, "ms": 1_000_000, "s": 1_000_000_000}

_NUMBER = r"[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?"
_DURATION_RE = re.compile(rf"^\s*({_NUMBER})\s*(ns|us|\u00b5s|\u03bcs|ms|s)?\s*$")
_RATE_RE = re.compile(rf"^\s*({_NUMBER})\s*(?:/\s*(ns|us|\u00b5s|\u03bcs|ms|s))?\s*$")
_CALL_RE = re.compile(r"^\s*([a-z]+)\s*\((.*)\)\s*$")

#: Largest duration a parameter may take (10,000 s): far beyond any lock hold or IO time,
#: and small enough that sums of many draws stay far inside int64 nanoseconds.
MAX_DURATION_NS = 10**13
#: Largest lognormal sigma: exp(10 z) already spans 40 decades at |z| = 4.
MAX_SIGMA = 10.0

DURATION_ALLOWED = ("a number with a unit such as 50us, 8ms, 1s (ns, us, µs, ms, s), "
                    "from 0 to 10000s")
#: Largest rate (events per second): one event per nanosecond on average.
MAX_RATE = 1e9
RATE_ALLOWED = ("a non-negative number per second up to 1e9, such as 200, 200/s or 5/ms")
DIST_ALLOWED = ("a duration (constant), const(5us), exp(20us) (mean), lognormal(100us, 0.6) "
                "(median, sigma), uniform(1ms, 2ms) (low, high), empirical(1ms, 2ms, 5ms) "
                "(2 to 257 ascending quantiles), ssd or hdd")
#: Quantiles of an ``empirical`` distribution (docs/model.md §13.1: the record's
#: MAX_TABLE_POINTS, kept equal by a test).
MIN_QUANTILES, MAX_QUANTILES = 2, 257
EMPIRICAL_ALLOWED = (f"empirical(q0, ..., qm): {MIN_QUANTILES} to {MAX_QUANTILES} durations "
                     "in ascending order (equal neighbours allowed), each from 0 to 10000s, "
                     "such as empirical(1ms, 1.2ms, 3ms)")


def _is_real(x) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def parse_duration(x, name: str = "duration") -> int:
    """Nanoseconds (int, rounded to the nearest) from a number of ns or a string with a unit.

    A bare number in a string is only accepted for zero, so that ``"50"``
    (50 what?) is an error rather than a silent 50 ns.

    >>> parse_duration("50us"), parse_duration("8 ms"), parse_duration("0"), parse_duration(1500)
    (50000, 8000000, 0, 1500)
    >>> parse_duration("5xs", "writer_hold")
    Traceback (most recent call last):
    ...
    mcsim.errors.ParameterError: writer_hold: '5xs' is not a duration; allowed: a number with a unit such as 50us, 8ms, 1s (ns, us, µs, ms, s), from 0 to 10000s
    """
    if _is_real(x):
        if x != x:
            raise ParameterError(name, x, DURATION_ALLOWED, "is not a number")
        if x < 0:
            raise ParameterError(name, x, DURATION_ALLOWED, "is negative")
        if x > MAX_DURATION_NS:
            raise ParameterError(name, x, DURATION_ALLOWED, "is too long")
        # int()/float() first: Decimal refuses numpy scalars (np.int64(5)).
        exact = Decimal(int(x)) if isinstance(x, numbers.Integral) else Decimal(float(x))
        return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
    match = _DURATION_RE.match(x) if isinstance(x, str) else None
    if match is None:
        problem = "is negative" if _looks_negative(x) else "is not a duration"
        raise ParameterError(name, x, DURATION_ALLOWED, problem)
    number, unit = Decimal(match.group(1)), match.group(2)
    if unit is None and number != 0:
        raise ParameterError(name, x, DURATION_ALLOWED, "has no unit")
    # Decimal keeps "0.1s" exact (float would give 99999999.99999999 ns).  Compare before
    # rounding: quantize() of a huge exponent (1e999s) would raise InvalidOperation.
    ns = number * NS_PER_UNIT[unit or "ns"]
    if ns > MAX_DURATION_NS:
        raise ParameterError(name, x, DURATION_ALLOWED, "is too long")
    return int(ns.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def _looks_negative(x) -> bool:
    """A string that would be a duration (or distribution) but for a leading minus."""
    return isinstance(x, str) and x.strip().startswith("-")


def format_duration(ns) -> str:
    """Human form with 3 significant digits, in the largest unit that keeps the number >= 1.

    >>> format_duration(8_050_000), format_duration(50_000), format_duration(0), format_duration(999.7)
    ('8.05 ms', '50 µs', '0', '1 µs')
    >>> format_duration(3_600_000_000_000), format_duration(float("nan"))
    ('3600 s', 'nan')
    """
    if not math.isfinite(ns):
        return str(ns)
    if ns == 0:
        return "0"
    sign, ns = ("-" if ns < 0 else ""), abs(ns)
    # Round to 3 significant digits first, so 999.7 ns becomes 1 µs, not 1000 ns.
    digits_before_point = math.floor(math.log10(ns)) + 1
    ns = round(ns, 3 - digits_before_point)
    unit = next(u for u in ("s", "ms", "\u00b5s", "ns") if ns >= NS_PER_UNIT[u] or u == "ns")
    value = ns / NS_PER_UNIT[unit]
    decimals = max(0, 3 - (math.floor(math.log10(value)) + 1))
    text = f"{value:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{sign}{text} {unit}"


def format_duration_exact(ns: int) -> str:
    """Exact text form that :func:`parse_duration` reads back: the largest unit dividing ``ns``.

    >>> format_duration_exact(8_000_000), format_duration_exact(1_500_000_000), format_duration_exact(12345)
    ('8ms', '1500ms', '12345ns')
    """
    for unit in ("s", "ms", "us"):
        if ns and ns % NS_PER_UNIT[unit] == 0:
            return f"{ns // NS_PER_UNIT[unit]}{unit}"
    return f"{ns}ns" if ns else "0"


def parse_rate(x, name: str = "rate") -> float:
    """Events per second from a number or ``"<number>/<unit>"``.

    >>> parse_rate(200), parse_rate("200/s"), parse_rate("5/ms"), parse_rate("2.5")
    (200.0, 200.0, 5000.0, 2.5)
    """
    if _is_real(x):
        rate = float(x)
    else:
        match = _RATE_RE.match(x) if isinstance(x, str) else None
        if match is None:
            raise ParameterError(name, x, RATE_ALLOWED,
                                 "is negative" if _looks_negative(x) else "is not a rate")
        per = match.group(2) or "s"
        rate = float(match.group(1)) * NS_PER_UNIT["s"] / NS_PER_UNIT[per]
    if rate != rate or rate < 0:
        raise ParameterError(name, x, RATE_ALLOWED, "is negative" if rate < 0
                             else "is not a number")
    if rate > MAX_RATE:
        raise ParameterError(name, x, RATE_ALLOWED, "is too high")
    return rate


#: The engine's integer codes of the distribution kinds.
DIST_CODES = {"const": 0, "exp": 1, "lognormal": 2, "uniform": 3, "empirical": 4}


@dataclass(frozen=True, repr=False)
class Dist:
    """A service-time distribution in ns: ``const`` (a = value), ``exp`` (a = mean),
    ``lognormal`` (a = median, b = sigma of the underlying normal), ``uniform`` (a = low,
    b = high: ``a + (b - a)·U``, one uniform draw), ``empirical`` (``table`` = its
    quantiles q0 … qm in ns, equally spaced in probability, interpolated linearly: a
    measured distribution as it was measured, docs/model.md §13.1; a = b = 0).

    >>> d = parse_dist("lognormal(100us, 0.6)")
    >>> str(d), round(d.mean_ns())
    ('lognormal(100us, 0.6)', 119722)
    >>> u = parse_dist("uniform(1ms, 3ms)")
    >>> str(u), u.mean_ns(), parse_dist(str(u)) == u
    ('uniform(1ms, 3ms)', 2000000.0, True)
    >>> e = parse_dist("empirical(1ms, 2ms, 6ms)")
    >>> e.table, str(e), e.mean_ns(), parse_dist(str(e)) == e
    ((1000000.0, 2000000.0, 6000000.0), 'empirical(1ms, 2ms, 6ms)', 2750000.0, True)
    """

    kind: str
    a: float = 0.0
    b: float = 0.0
    table: tuple = ()

    def __post_init__(self):
        if isinstance(self.table, (list, range)):
            # A list would make the Dist unhashable; a tuple of floats compares and hashes
            # like the parsed form.
            object.__setattr__(self, "table", tuple(self.table))
        self.check("distribution")
        if self.table:
            object.__setattr__(self, "table", tuple(float(q) for q in self.table))

    def check(self, name: str) -> None:
        """Raise :class:`~mcsim.errors.ParameterError` (naming ``name``) unless the kind
        is known and the arguments are in range; a Dist built by hand is checked too.

        >>> Dist("lognormal", 1e6, -0.5)
        Traceback (most recent call last):
        ...
        mcsim.errors.ParameterError: distribution: Dist(kind='lognormal', a=1000000.0, b=-0.5) has a bad sigma; allowed: a lognormal sigma from 0 to 10 such as 0.6
        """
        if self.kind not in DIST_CODES:
            raise ParameterError(name, self, DIST_ALLOWED, "is not a distribution")
        if self.kind == "empirical":
            self._check_table(name)
            return
        if self.table != ():
            raise ParameterError(name, self, f"{self.kind}(...) has no quantile table",
                                 "is not a distribution")
        if not (_is_real(self.a) and 0 <= self.a <= MAX_DURATION_NS):
            raise ParameterError(name, self, f"a {_ARG_NAMES[self.kind]} from 0 to "
                                 f"{MAX_DURATION_NS} ns (10000s)", "is out of range")
        if self.kind == "lognormal":
            if not (_is_real(self.b) and 0 <= self.b <= MAX_SIGMA):
                raise ParameterError(name, self, SIGMA_ALLOWED, "has a bad sigma")
        elif self.kind == "uniform":
            if not (_is_real(self.b) and self.a <= self.b <= MAX_DURATION_NS):
                raise ParameterError(name, self, UNIFORM_ALLOWED, "has low > high"
                                     if _is_real(self.b) and self.b < self.a
                                     else "is out of range")
        elif self.b != 0:
            raise ParameterError(name, self, f"{self.kind}(...) has one argument (b = 0)",
                                 "is not a distribution")

    def _check_table(self, name: str) -> None:
        table = self.table
        if not isinstance(table, tuple) or self.a != 0 or self.b != 0:
            raise ParameterError(name, self, EMPIRICAL_ALLOWED, "is not a distribution")
        if not MIN_QUANTILES <= len(table) <= MAX_QUANTILES:
            raise ParameterError(name, self, EMPIRICAL_ALLOWED,
                                 f"has {len(table)} quantile{'s' * (len(table) != 1)}")
        for i, q in enumerate(table):
            if not (_is_real(q) and 0 <= q <= MAX_DURATION_NS):
                raise ParameterError(name, self, EMPIRICAL_ALLOWED,
                                     f"has a quantile out of range (q{i} = {q!r} ns)")
            if not float(q).is_integer():
                # Parsed quantiles are whole ns; a fraction would not survive str().
                raise ParameterError(name, self, EMPIRICAL_ALLOWED + ", in whole ns",
                                     f"has a fractional quantile (q{i} = {q!r} ns)")
        for i in range(1, len(table)):
            if table[i] < table[i - 1]:
                raise ParameterError(name, self, EMPIRICAL_ALLOWED, "is not ascending (q"
                                     f"{i} = {format_duration_exact(int(table[i]))} after "
                                     f"{format_duration_exact(int(table[i - 1]))})")

    def mean_ns(self) -> float:
        """The distribution's mean (ns), analytically.  An empirical distribution's
        quantile function is linear on each of its m segments of probability 1/m, so its
        mean is the average of the segments' midpoints."""
        if self.kind == "lognormal":
            return self.a * math.exp(self.b * self.b / 2.0)
        if self.kind == "uniform":
            return (self.a + self.b) / 2.0
        if self.kind == "empirical":
            t = self.table
            return sum((lo + hi) / 2.0 for lo, hi in zip(t, t[1:])) / (len(t) - 1)
        return self.a

    @property
    def code(self) -> int:
        return DIST_CODES[self.kind]

    def __repr__(self) -> str:
        # The table only where there is one, so the other kinds read as they always did.
        table = f", table={self.table!r}" if self.table else ""
        return f"Dist(kind={self.kind!r}, a={self.a!r}, b={self.b!r}{table})"

    def __str__(self) -> str:
        # Exact units and repr() of sigma, so that parse_dist(str(d)) == d.
        if self.kind == "empirical":
            return f"empirical({', '.join(format_duration_exact(int(q)) for q in self.table)})"
        arg = format_duration_exact(int(self.a))
        if self.kind == "lognormal":
            return f"lognormal({arg}, {self.b!r})"
        if self.kind == "uniform":
            return f"uniform({arg}, {format_duration_exact(int(self.b))})"
        return f"{self.kind}({arg})"


PRESETS = {
    "ssd": Dist("lognormal", 100_000.0, 0.6),
    "hdd": Dist("lognormal", 8_000_000.0, 0.5),
}

SIGMA_ALLOWED = "a lognormal sigma from 0 to 10 such as 0.6"
UNIFORM_ALLOWED = "uniform(low, high) with durations 0 <= low <= high <= 10000s"
_ARG_NAMES = {"const": "value", "exp": "mean", "lognormal": "median", "uniform": "low"}

# Keyword names of each kind's parameters in the dict (TOML) form.
_DICT_FIELDS = {"const": ("value",), "exp": ("mean",), "lognormal": ("median", "sigma"),
                "uniform": ("low", "high"), "empirical": ("quantiles",)}
_DICT_ALLOWED = ("{'dist': 'const', 'value': ...}, {'dist': 'exp', 'mean': ...}, "
                 "{'dist': 'lognormal', 'median': ..., 'sigma': ...}, {'dist': 'uniform', "
                 "'low': ..., 'high': ...} or {'dist': 'empirical', 'quantiles': [...]}")


def _make_empirical(args: list, name: str, x) -> Dist:
    """An empirical Dist from its quantiles as written (durations with units)."""
    if args == [""]:                      # "empirical()"
        args = []
    if not MIN_QUANTILES <= len(args) <= MAX_QUANTILES:
        raise ParameterError(name, x, EMPIRICAL_ALLOWED, f"has {len(args)} quantile"
                             + "s" * (len(args) != 1))
    table = []
    for i, q in enumerate(args):
        try:
            table.append(parse_duration(q, name))
        except ParameterError as err:
            raise ParameterError(name, x, EMPIRICAL_ALLOWED,
                                 f"has a bad quantile q{i} = {q!r} ({err.problem})") from None
        if i and table[i] < table[i - 1]:
            raise ParameterError(name, x, EMPIRICAL_ALLOWED, f"is not ascending (q{i} = "
                                 f"{format_duration_exact(table[i])} after "
                                 f"{format_duration_exact(table[i - 1])})")
    return Dist("empirical", table=tuple(float(q) for q in table))


def _make_dist(kind: str, args: list, name: str, x) -> Dist:
    """Build a Dist from its kind and argument values (durations, then sigma; an
    empirical distribution's quantiles)."""
    if kind == "empirical":
        return _make_empirical(args, name, x)
    if kind not in _DICT_FIELDS or len(args) != len(_DICT_FIELDS[kind]):
        raise ParameterError(name, x, DIST_ALLOWED, "is not a distribution")
    a = float(parse_duration(args[0], name))
    if kind == "uniform":
        b = float(parse_duration(args[1], name))
        if b < a:
            raise ParameterError(name, x, UNIFORM_ALLOWED, "has low > high")
        return Dist(kind, a, b)
    if kind != "lognormal":
        return Dist(kind, a)
    try:
        sigma = float(args[1])
    except (TypeError, ValueError):
        sigma = math.nan
    if isinstance(args[1], bool) or not 0 <= sigma <= MAX_SIGMA:
        raise ParameterError(name, x, SIGMA_ALLOWED, "has a bad sigma")
    return Dist(kind, a, sigma)


def parse_dist(x, name: str = "distribution") -> Dist:
    """A :class:`Dist` from a duration (constant), ``kind(args)``, a preset or a dict.

    >>> parse_dist("5us"), parse_dist("ssd") == parse_dist("lognormal(100us, 0.6)")
    (Dist(kind='const', a=5000.0, b=0.0), True)
    >>> parse_dist({"dist": "lognormal", "median": "8ms", "sigma": 0.5}) == parse_dist("hdd")
    True
    >>> parse_dist({"dist": "uniform", "low": "1ms", "high": "2ms"})
    Dist(kind='uniform', a=1000000.0, b=2000000.0)
    >>> parse_dist({"dist": "empirical", "quantiles": ["80us", "95us", "0.4ms"]})
    Dist(kind='empirical', a=0.0, b=0.0, table=(80000.0, 95000.0, 400000.0))
    >>> parse_dist("empirical(2ms, 1ms)", "wake_jitter")
    Traceback (most recent call last):
    ...
    mcsim.errors.ParameterError: wake_jitter: 'empirical(2ms, 1ms)' is not ascending (q1 = 1ms after 2ms); allowed: empirical(q0, ..., qm): 2 to 257 durations in ascending order (equal neighbours allowed), each from 0 to 10000s, such as empirical(1ms, 1.2ms, 3ms)
    """
    if isinstance(x, Dist):
        x.check(name)
        return x
    if isinstance(x, dict):
        kind = x.get("dist")
        fields = _DICT_FIELDS.get(kind)
        if fields is None or set(x) != {"dist", *fields}:
            raise ParameterError(name, x, _DICT_ALLOWED, "is not a distribution")
        if kind == "empirical":
            quantiles = x["quantiles"]
            if not isinstance(quantiles, (list, tuple)):
                raise ParameterError(name, x, EMPIRICAL_ALLOWED + ", as a list",
                                     "is not a distribution")
            return _make_empirical(list(quantiles), name, x)
        return _make_dist(kind, [x[f] for f in fields], name, x)
    if isinstance(x, str):
        text = x.strip().lower()
        if text in PRESETS:
            return PRESETS[text]
        call = _CALL_RE.match(text)
        if call:
            return _make_dist(call.group(1), [s.strip() for s in call.group(2).split(",")], name, x)
    if _is_real(x) or (isinstance(x, str) and _DURATION_RE.match(x)):
        return Dist("const", float(parse_duration(x, name)))
    raise ParameterError(name, x, DIST_ALLOWED,
                         "is negative" if _looks_negative(x) else "is not a distribution")
