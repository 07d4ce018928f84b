"""The errors a user can meet, each tied to the exit code DESIGN.md gives it.

Every layer raises these with the one line the user will read; only the CLI turns them into an
exit status. Anything else that escapes is a bug and exits 70.
"""

from __future__ import annotations


def shown(text: str, limit: int = 40) -> str:
    """``text`` quoted for an error line, cut short when a long one would bury the message
    (a 5,000-digit amount)."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}… ({len(text):,} characters)"


class RefundctlError(Exception):
    """Base of every error that is the user's to fix, not a bug."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadInput(RefundctlError):
    """Bad input, an unknown order or dispute, a move not allowed: exit 2, ledger unchanged."""


class ManyProblems(BadInput):
    """Bad input with several problems to fix at once (an import): a summary, then one line
    each. Still exit 2, and still nothing written."""

    def __init__(self, message: str, problems: list[str]) -> None:
        super().__init__(message)
        self.problems = problems


class LedgerUnusable(RefundctlError):
    """Not a refundctl ledger, damaged, or written by a newer version: exit 3."""

    exit_code = 3


class LedgerDamaged(LedgerUnusable):
    """A ledger whose file reads, but whose rows do not make sense (a flipped byte): exit 3,
    with what to do. ``where`` is the file, where the layer that noticed knows it."""

    def __init__(self, detail: str, where: object | None = None) -> None:
        self.detail = detail
        self.where = where
        name = "the ledger" if where is None else str(where)
        super().__init__(
            f"{name} is damaged ({detail}); nothing was written to it. Restore your last "
            "backup with 'refundctl restore ARCHIVE --force' (the damaged file is kept aside); "
            "'refundctl verify' shows what is wrong"
        )


class NoSpace(RefundctlError):
    """The disk that holds the ledger or the file being written is full: exit 3, the ledger as
    it was. The machine's state, not the user's input nor a bug."""

    exit_code = 3

    def __init__(self, where: object, detail: str = "free some space, then retry") -> None:
        super().__init__(f"no space left on the device that holds {where}: {detail}")


class LedgerLocked(RefundctlError):
    """Another refundctl held the ledger past the timeout: exit 75, try again."""

    exit_code = 75


class Interrupted(RefundctlError):
    """Ctrl-C while a command ran: exit 130. A transaction it had not committed is rolled
    back; the message says whether one had been."""

    exit_code = 130
