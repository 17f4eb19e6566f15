"""The exception tree: each carries its diagnostics and its exit code."""

from __future__ import annotations

from collections.abc import Iterable

from assetbuild.diagnostics import Diagnostic


class AssetbuildError(Exception):
    """Base of every error the tool reports; the CLI maps it to `exit_code`."""

    exit_code = 1

    def __init__(self, message: str = "", diagnostics: Iterable[Diagnostic] = ()) -> None:
        self.diagnostics: tuple[Diagnostic, ...] = tuple(diagnostics)
        if not message and self.diagnostics:
            message = self.diagnostics[0].message
        super().__init__(message)
        self.message = message


class SourceError(AssetbuildError):
    """Errors in the user's sources (syntax, encoding, missing files): exit 1."""

    exit_code = 1


class ConfigError(AssetbuildError):
    """Usage or configuration errors: exit 2."""

    exit_code = 2


class InstallError(AssetbuildError):
    """Errors writing the output (permissions, disk, lock): exit 3."""

    exit_code = 3


class LockTimeout(InstallError):
    """Another install held the lock for longer than the timeout."""
