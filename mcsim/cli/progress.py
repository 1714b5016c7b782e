"""Progress on stderr: a transient bar on a terminal, a line every so often in a log.

With stderr a terminal, a rich bar shows the work done, the time taken and the time left.
With stderr a file or a pipe (a batch job's log), :class:`LogProgress` writes one line when
some work finishes and at least ``interval`` seconds have passed since the start or the
last line, so a short command writes none and a long one a line per ``interval`` at most.
The time left is ``elapsed * remaining / done`` in the units of the work: for a sweep,
trials (a point's ``trials``, the minimum under a precision target), not points.

>>> import io
>>> log = LogProgress("sweep demo", "trials", interval=0, stream=io.StringIO())
>>> log.update(0, 4000, detail="0/2 points")
>>> log.update(1000, 4000, detail="1/2 points")
>>> log.stream.getvalue().startswith("mcsim: sweep demo: 1/2 points, 25% of 4,000 trials")
True
"""
from __future__ import annotations

import sys
import time

#: Seconds between two progress lines in a log, unless told otherwise.
LOG_INTERVAL_S = 10.0


def clock(seconds: float) -> str:
    """``H:MM:SS`` or ``M:SS``.

    >>> clock(75), clock(3725)
    ('1:15', '1:02:05')
    """
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class LogProgress:
    """Progress lines for a log (see the module).  ``advance(n)`` and ``update(completed,
    total, detail=None)`` as on the bar; ``detail`` replaces the ``completed/total unit``
    part of the line (e.g. ``"3/10 points"``)."""

    def __init__(self, description: str, unit: str, *, interval: float = LOG_INTERVAL_S,
                 stream=None):
        self.description, self.unit, self.interval = description, unit, interval
        self.stream = stream
        self.started = self.last = time.monotonic()
        self.completed, self.total, self.detail = 0, None, None

    def advance(self, n: int = 1) -> None:
        self.update(self.completed + n, self.total)

    def update(self, completed: int, total: int | None, detail: str | None = None) -> None:
        moved = completed != self.completed or detail != self.detail
        self.completed, self.total, self.detail = completed, total, detail
        now = time.monotonic()
        if moved and completed and now - self.last >= self.interval:
            self.last = now
            self._write(self.line(now - self.started))

    def line(self, elapsed: float) -> str:
        done, total = self.completed, self.total
        if total:
            what = (f"{self.detail}, {100 * done / total:.0f}% of {total:,} {self.unit}"
                    if self.detail else
                    f"{done:,}/{total:,} {self.unit} ({100 * done / total:.0f}%)")
        else:
            what = self.detail or f"{done:,} {self.unit}"
        text = f"mcsim: {self.description}: {what}, {clock(elapsed)} elapsed"
        if total and 0 < done < total:
            text += f", about {clock(elapsed * (total - done) / done)} left"
        return text

    def _write(self, line: str) -> None:
        stream = self.stream or sys.stderr
        try:
            stream.write(line + "\n")
            stream.flush()
        except (OSError, ValueError, AttributeError):
            self.interval = float("inf")      # stderr is gone: the work goes on silently


class BarProgress:
    """The rich bar's task, with the same methods as :class:`LogProgress`."""

    def __init__(self, progress, task):
        self._progress, self._task = progress, task

    def advance(self, n: int = 1) -> None:
        self._progress.advance(self._task, n)

    def update(self, completed: int, total: int | None, detail: str | None = None) -> None:
        fields = {} if detail is None else {"detail": detail}
        self._progress.update(self._task, completed=completed, total=total, **fields)


def rich_progress(unit: str, *, eta: bool):
    """A transient rich ``Progress`` on stderr; its tasks' ``detail`` field, when set,
    replaces the ``completed/total unit`` column."""
    from rich.console import Console
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, ProgressColumn,
                               TextColumn, TimeElapsedColumn, TimeRemainingColumn)

    class Amount(ProgressColumn):
        def __init__(self):
            super().__init__()
            self.counts = MofNCompleteColumn()

        def render(self, task):
            detail = task.fields.get("detail")
            if detail:
                from rich.text import Text

                return Text(detail)
            return self.counts.render(task) + f" {unit}"

    columns = [TextColumn("{task.description}"), BarColumn(), Amount(), TimeElapsedColumn()]
    if eta:
        columns += [TextColumn("ETA"), TimeRemainingColumn()]
    return Progress(*columns, console=Console(stderr=True), transient=True)
