"""Option values that need no pydantic: an absent option, a decimal number, a string.

Typer checks each option's value with a pydantic ``TypeAdapter``, built the first time the
option is parsed, even when the option was not given (its value is then None, which needs
no checking).  Importing pydantic and building the
adapters of one command takes about 0.2 s, longer than ``mcsim run --trials 1000``
simulates.  mcsim's options are plain ``str``, ``int``, ``float`` and ``list[str]`` (and
``Path`` and ``bool``, left to Typer), and most values given to them leave no doubt about
the result: :func:`plain_value` computes it, the same value of the same type as the adapter
returns, and an absent option needs no adapter at all.  Every other value, a bad one included, still goes through Typer's adapter, so
what is accepted and every error message stay Typer's own.

:func:`install` puts this in front of Typer's coercion; with a Typer whose internals differ
it does nothing, and Typer coerces everything as before.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, get_args, get_origin

#: What :func:`plain_value` returns when the value is not plain: Typer decides.
NOT_PLAIN = object()

# Decimal integers and fractions as typed on a command line.  pydantic reads them to the
# same number (both round decimal fractions correctly); other spellings (exponents,
# underscores, spaces, inf, other digits) go to pydantic.
_INT = re.compile(r"-?(?:0|[1-9][0-9]{0,17})")
_FLOAT = re.compile(r"-?[0-9]{1,17}(?:\.[0-9]{1,17})?")


def _is_text(value: Any) -> bool:
    # An argument that was not valid UTF-8 carries lone surrogates; pydantic has its own
    # error for those.
    if type(value) is not str:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def plain_value(annotation: Any, info: Any, value: Any) -> Any:
    """``value`` as Typer's adapter for ``annotation`` (with the constraints of the
    parameter ``info``) returns it, or :data:`NOT_PLAIN` when that is not obvious.

    >>> from typer.models import OptionInfo
    >>> plain_value(int, OptionInfo(), "1000"), plain_value(float, OptionInfo(), "0.02")
    (1000, 0.02)
    >>> plain_value(list[str], OptionInfo(), ("device=ssd",))
    ['device=ssd']
    >>> plain_value(int, OptionInfo(), "1e3") is NOT_PLAIN           # pydantic decides
    True
    >>> plain_value(int, OptionInfo(min=20), "10") is NOT_PLAIN      # and reports
    True
    """
    if getattr(info, "parser", None) is not None:
        return NOT_PLAIN
    if annotation is str:
        return value if _is_text(value) else NOT_PLAIN
    if annotation is int or annotation is float:
        return _plain_number(annotation, info, value)
    if get_origin(annotation) is list and get_args(annotation) == (str,):
        if isinstance(value, (list, tuple)) and all(_is_text(v) for v in value):
            return list(value)
    return NOT_PLAIN


def _plain_number(kind: type, info: Any, value: Any) -> Any:
    if type(value) is str and (_INT if kind is int else _FLOAT).fullmatch(value):
        number = kind(value)
    elif type(value) is kind:            # a default
        number = value
    else:
        return NOT_PLAIN
    low, high = getattr(info, "min", None), getattr(info, "max", None)
    if getattr(info, "clamp", False) or (low is not None and not number >= low) or (
            high is not None and not number <= high):
        return NOT_PLAIN
    return number


def takes_plain_values(descriptor: Any) -> bool:
    """Whether an option of this Typer type descriptor can take plain values."""
    annotation = descriptor.annotation
    return (descriptor.file_annotation is None
            and getattr(descriptor.parameter_info, "parser", None) is None
            and (annotation in (str, int, float)
                 or (get_origin(annotation) is list and get_args(annotation) == (str,))))


def install() -> bool:
    """Let Typer's options coerce plain values here (see the module docstring); return
    whether it could (False, and nothing changed, with a Typer built otherwise)."""
    try:
        from typer._coercion import RuntimeParam, build_runtime_param
        from typer.core import _TyperParameter
    except ImportError:
        return False
    if not hasattr(_TyperParameter, "get_runtime_param") or getattr(
            _TyperParameter, "_mcsim_plain_values", False):
        return bool(getattr(_TyperParameter, "_mcsim_plain_values", False))

    @dataclass(frozen=True)
    class PlainFirst(RuntimeParam):
        """Typer's coercion of one option (its ``coerce`` handles absent values and
        repeated options), with plain values done by :func:`plain_value` and Typer's own
        coercion built only for the others."""

        descriptor: Any
        plain: bool
        typer_param: list = field(default_factory=list)

        def _coerce_value(self, value, param, ctx):
            if self.plain:
                value_here = plain_value(self.annotation, self.parameter_info, value)
                if value_here is not NOT_PLAIN:
                    return value_here
            if not self.typer_param:
                self.typer_param.append(build_runtime_param(self.descriptor))
            return self.typer_param[0]._coerce_value(value, param=param, ctx=ctx)

    typer_runtime_param = _TyperParameter.get_runtime_param

    def get_runtime_param(self):
        if self._runtime_param is None:
            desc = self.type_descriptor
            self._runtime_param = PlainFirst(
                parameter_info=desc.parameter_info, annotation=desc.annotation,
                descriptor=desc, plain=takes_plain_values(desc))
        return typer_runtime_param(self)

    _TyperParameter.get_runtime_param = get_runtime_param
    _TyperParameter._mcsim_plain_values = True
    return True
