"""Errors raised while reading a Wippy app; each one points at the registry file and line to fix."""

from __future__ import annotations

from collections.abc import Iterable

from wftest.errors import UserError


class AppError(UserError):
    """One problem in an app, located by registry file (relative to the app root) and 1-based line."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        entry_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.entry_id = entry_id

    def __str__(self) -> str:
        if self.file is None:
            return self.message
        if self.line is None:
            return f"{self.file}: {self.message}"
        return f"{self.file}:{self.line}: {self.message}"

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only fields are not in ``args``; rebuild them so errors survive pickling (xdist, pools).
        return (_rebuild, (type(self), self.message, self.file, self.line, self.entry_id))


def _rebuild(
    cls: type[AppError], message: str, file: str | None, line: int | None, entry_id: str | None
) -> AppError:
    return cls(message, file=file, line=line, entry_id=entry_id)


class UnknownEntryError(AppError, KeyError):
    """Lookup of an entry id the app does not define; also a ``KeyError`` so mapping-style code works."""


class AppLoadError(UserError):
    """Every problem found in one app, so a command-line tool can print them all at once."""

    def __init__(self, errors: Iterable[AppError]) -> None:
        self.errors: tuple[AppError, ...] = tuple(errors)
        super().__init__(self.errors)

    def __str__(self) -> str:
        return "\n".join(str(error) for error in self.errors)

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.errors,))
