"""A progress bar for long imports, drawn on stderr only when it is a terminal."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

# Below this many rows an import is over before a bar would be worth drawing.
SHOW_FROM = 2000


@contextmanager
def progress_reporter(label: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
    """A callback that takes the number of rows done; silent when stderr is not a terminal."""
    if not sys.stderr.isatty() or (total is not None and total < SHOW_FROM):
        yield lambda _done: None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=total)

        def tick(done: int) -> None:
            bar.update(task, completed=done)

        yield tick
