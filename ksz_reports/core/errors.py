"""Typed errors. Each one renders as one line: what, where (file, row, column), what to do.

The CLI prints ``Error: <str(exc)>`` and exits with ``exc.exit_code``; the traceback only with
``--debug``. Library users catch :class:`KszError` (or a subclass) and read the attributes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

EXIT_OK = 0
EXIT_FAILURES = 1  # some reports failed (batch continues with the others) or an audit found leaks
EXIT_BAD_INPUT = 2  # bad input or usage
EXIT_LOCKED = 3  # another batch holds the lock


class KszError(Exception):
    """Base class of every error ksz_reports raises on purpose."""

    exit_code = EXIT_BAD_INPUT


#: The longest value a message echoes (characters): a longer one is cut, with an ellipsis.
MAX_ECHO = 80


def cap(text: str, limit: int = MAX_ECHO) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis (an 8 MiB field is never echoed
    whole); shorter text as it is."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def quoted(value: object, limit: int = MAX_ECHO) -> str:
    """A value as a message echoes it: quoted (``repr``), cut to ``limit`` characters."""
    return repr(cap(str(value), limit))


def shown_name(name: str) -> str:
    """A file name as printed on one line: control characters (a newline, an ANSI escape) and
    bytes that are not UTF-8 (surrogate escapes) written as ``\\n``, ``\\x1b``, ``\\xff``; the rest
    (accents too) as it is."""
    if name.isprintable():
        return name
    out = []
    for c in name:
        o = ord(c)
        if 0xDC80 <= o <= 0xDCFF:  # a byte that is not UTF-8 (os.fsdecode's surrogateescape)
            out.append(f"\\x{o - 0xDC00:02x}")
        elif c.isprintable():
            out.append(c)
        else:
            out.append(repr(c)[1:-1] if o < 0x10000 else f"\\U{o:08x}")
    return "".join(out)


@dataclass(frozen=True)
class Location:
    """Where a problem is: a file, and optionally a 1-based row (as a spreadsheet shows it) and a column."""

    file: str | None = None
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        parts = []
        if self.file is not None:
            parts.append(shown_name(str(self.file)))
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(f"column {self.column!r}")
        return ", ".join(parts)


def render_problem(message: str, location: Location | None = None, hint: str | None = None) -> str:
    """The one template every data problem is rendered from: ``<where>: <what>. <what to do>``."""
    text = message.rstrip(".")
    where = str(location) if location is not None else ""
    line = f"{where}: {text}." if where else f"{text}."
    if hint:
        line += f" {hint.rstrip('.')}."
    return line


class InputError(KszError):
    """A problem in an input file (raw export, population file, cell table)."""

    exit_code = EXIT_BAD_INPUT

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        row: int | None = None,
        column: str | None = None,
        hint: str | None = None,
        code: str = "invalid-input",
    ):
        self.message = message
        self.location = Location(None if file is None else str(file), row, column)
        self.hint = hint
        self.code = code
        super().__init__(render_problem(message, self.location, hint))

    @property
    def file(self) -> str | None:
        return self.location.file

    @property
    def row(self) -> int | None:
        return self.location.row

    @property
    def column(self) -> str | None:
        return self.location.column

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "message": self.message,
            "file": self.file,
            "row": self.row,
            "column": self.column,
            "hint": self.hint,
            "text": str(self),
        }


class ConfigError(KszError):
    """A configuration file is invalid: names the file and the key."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, message: str, *, file: str | Path | None = None, key: str | None = None):
        self.message = message
        self.file = None if file is None else str(file)
        self.key = key
        where = ", ".join(p for p in (self.file, f"key {key!r}" if key else None) if p)
        super().__init__(
            render_problem(message, None, None) if not where else f"{where}: {message.rstrip('.')}."
        )


class UsageError(KszError):
    """The command was called wrongly (unknown municipality, bad option combination, …)."""

    exit_code = EXIT_BAD_INPUT


class NotFoundError(UsageError):
    """A municipality, indicator or period that does not exist; carries suggestions."""

    def __init__(self, message: str, suggestions: list[str] | None = None):
        self.suggestions = list(suggestions or [])
        text = message.rstrip(".")
        if self.suggestions:
            text += ". Did you mean: " + ", ".join(self.suggestions) + "?"
        else:
            text += "."
        super().__init__(text)


class OutputError(KszError):
    """An output cannot be written: a read-only folder, no permission, a full disk. The previous
    output is kept (every output is written beside it and swapped in whole)."""

    exit_code = EXIT_BAD_INPUT

    #: errno → what to do
    HINTS = {
        "ENOSPC": "Free space on the disk and run again (the previous output is kept)",
        "EDQUOT": "Free space within your disk quota and run again (the previous output is kept)",
        "EFBIG": "Free space on the disk and run again (the previous output is kept)",
        "EROFS": "Give a folder you may write to (the previous output is kept)",
        "EACCES": "Give a folder you may write to, or change its permissions (the previous "
        "output is kept)",
        "EPERM": "Give a folder you may write to, or change its permissions (the previous "
        "output is kept)",
    }

    def __init__(self, message: str, *, file: str | Path | None = None, hint: str | None = None):
        self.message = message
        self.file = None if file is None else str(file)
        self.hint = hint
        super().__init__(render_problem(message, Location(self.file), hint))


class LockedError(KszError):
    """Another batch holds the lock of the output folder."""

    exit_code = EXIT_LOCKED


class DisclosureError(KszError):
    """A number would leave the product without passing the disclosure gate, or the audit failed."""

    exit_code = EXIT_FAILURES
