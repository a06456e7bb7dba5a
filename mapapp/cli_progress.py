"""What the command line shows while it works: a rich progress bar on stderr."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any


class ProgressBar:
    """A rich progress bar on stderr, entered for one run; yields its ``advance(n)``.

    With an online geocoder it also shows requests, cache hits, failures and
    the time its rate limit implies for the rest (read live from ``online``).
    The class itself is the ``progress`` factory `mapapp.ingest.pipeline` takes.
    """

    def __init__(
        self, total: int, online: Any = None, *, label: str = "geoparsing articles"
    ) -> None:
        self.total, self.progress = total, None
        self.online, self.label = online, label

    def __enter__(self) -> Callable[[int], None]:
        from rich.progress import Progress

        columns = [*Progress.get_default_columns()]
        if self.online is not None:  # a shorter bar leaves room for the online counters
            from rich.progress import BarColumn

            columns = [BarColumn(bar_width=16) if isinstance(c, BarColumn) else c for c in columns]
            columns.append(_online_column(self.online, self.total))
        self.progress = Progress(*columns, transient=False, console=_stderr_console())
        self.progress.__enter__()
        task = self.progress.add_task(self.label, total=self.total)
        return lambda n: self.progress.advance(task, n)

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.__exit__(*exc)


def progress_bar(
    total: int, enabled: bool, online: Any = None, *, label: str = "geoparsing articles"
) -> AbstractContextManager[Any]:
    """A `ProgressBar`, or nothing shown when not ``enabled``."""
    if not enabled:
        return nullcontext(lambda n: None)
    return ProgressBar(total, online, label=label)


def _online_column(stats: Any, total: int) -> Any:
    """A progress column: "nominatim 12 req · 30 cached · 1 failed · ~0:02:10 at 1 req/s"."""
    from datetime import timedelta

    from rich.progress import ProgressColumn
    from rich.text import Text

    class OnlineColumn(ProgressColumn):
        def render(self, task: Any) -> Text:
            eta = timedelta(seconds=int(stats.eta_seconds(total)))
            return Text(
                f"{stats.service} {stats.requests} req · {stats.cache_hits} cached · "
                f"{stats.failures} failed · ~{eta} at {1 / stats.min_delay_seconds:g} "
                "req/s",
                style="progress.remaining",
                no_wrap=True,
                overflow="ellipsis",
            )

    return OnlineColumn()


def _stderr_console() -> Any:
    """A rich console writing to stderr (stdout stays for results)."""
    from rich.console import Console

    return Console(stderr=True)
