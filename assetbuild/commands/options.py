"""The command line's options: the settings they gather, and the decorators that declare them.

Part of the `assetbuild` command (cli.py), kept apart so the commands stay readable.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from assetbuild.build.results import InstallOutcome, Policy
    from assetbuild.build.session import Session

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Settings:
    """Options gathered from the group and the command line, before the config is loaded."""

    directory: Path | None = None
    config_file: Path | None = None
    static_url: str | None = None
    tokens: list[tuple[str, str]] = field(default_factory=list)
    strict_tokens: bool = False
    strict: bool = False
    minify: bool = True
    use_cache: bool = True
    sourcemap: str | None = None
    debug_id: bool | None = None  # --debug-id; None: the config's
    quiet: bool = False
    json: bool = False
    verbose: bool = False
    target: str | None = None  # --target s3://bucket/prefix
    started: float = field(default_factory=time.monotonic)
    checked: Session | None = None  # the quick path's session: its state said "not up to date"
    # quick.py's: after a plain install, record what the next no-change run answers
    remember: Callable[[Session, InstallOutcome], None] | None = None


def settings_of(ctx: click.Context) -> Settings:
    return ctx.ensure_object(Settings)


def parse_token(
    ctx: click.Context, param: click.Parameter, values: Sequence[str]
) -> list[tuple[str, str]]:
    pairs = []
    for value in values:
        name, sep, text = value.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"expected NAME=VALUE, got {value!r}", ctx, param)
        pairs.append((name, text))
    return pairs


def store(attr: str) -> Callable[[click.Context, click.Parameter, Any], Any]:
    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        settings = settings_of(ctx)
        if value is not None and value != () and value != [] and value is not False:
            setattr(settings, attr, value)
        return value

    return callback


def location_options(f: F) -> F:
    f = click.option(
        "-C",
        "directory",
        type=click.Path(file_okay=False, path_type=Path),
        expose_value=False,
        callback=store("directory"),
        help="Run as if started in DIR.",
    )(f)
    f = click.option(
        "-c",
        "--config",
        "config_file",
        type=click.Path(dir_okay=False, path_type=Path),
        expose_value=False,
        callback=store("config_file"),
        help="Use this config file (assetbuild.toml or pyproject.toml).",
    )(f)
    return f


def target_option(f: F) -> F:
    return click.option(
        "--target",
        metavar="URL",
        expose_value=False,
        callback=store("target"),
        help="Install into object storage: s3://BUCKET/PREFIX (overrides the config's target).",
    )(f)


def build_options(f: F) -> F:
    """Options shared by every command that builds."""
    for decorator in reversed(
        [
            location_options,
            click.option(
                "--static-url",
                metavar="URL",
                expose_value=False,
                callback=store("static_url"),
                help="Value of the {$static} token (overrides the config and ASSETBUILD_STATIC_URL).",
            ),
            click.option(
                "--token",
                "tokens",
                metavar="NAME=VALUE",
                multiple=True,
                expose_value=False,
                callback=lambda c, p, v: store("tokens")(c, p, parse_token(c, p, v)),
                help="Set a token's value; repeatable.",
            ),
            click.option(
                "--strict-tokens",
                is_flag=True,
                default=False,
                expose_value=False,
                callback=store("strict_tokens"),
                help="Make undeclared {$name} tokens errors instead of warnings.",
            ),
            click.option(
                "--strict",
                is_flag=True,
                default=False,
                expose_value=False,
                callback=store("strict"),
                help="Make CSS that browsers would drop (stray text, a missing ';', an invalid "
                "selector) an error instead of a warning.",
            ),
            click.option(
                "--no-minify",
                "no_minify",
                is_flag=True,
                default=False,
                expose_value=False,
                callback=lambda c, p, v: setattr(settings_of(c), "minify", False) if v else None,
                help="Concatenate, substitute and check, but do not minify.",
            ),
            click.option(
                "--sourcemap",
                type=click.Choice(["none", "linked", "hidden"]),
                metavar="MODE",
                expose_value=False,
                callback=store("sourcemap"),
                help="Source maps for every bundle: none, linked (with the comment) or hidden.",
            ),
            click.option(
                "--debug-id",
                "debug_id",
                is_flag=True,
                default=False,
                expose_value=False,
                callback=lambda c, p, v: setattr(settings_of(c), "debug_id", True) if v else None,
                help="Give each bundle with a map a Debug ID (a `debugId` comment, and in the map).",
            ),
            click.option(
                "--no-cache",
                "no_cache",
                is_flag=True,
                default=False,
                expose_value=False,
                callback=lambda c, p, v: setattr(settings_of(c), "use_cache", False) if v else None,
                help="Neither read nor write the content cache.",
            ),
            output_options,
        ]
    ):
        f = decorator(f)
    return f


def output_options(f: F) -> F:
    f = click.option(
        "-q",
        "--quiet",
        is_flag=True,
        default=False,
        expose_value=False,
        callback=store("quiet"),
        help="Print only errors and warnings.",
    )(f)
    f = click.option(
        "-v",
        "--verbose",
        is_flag=True,
        default=False,
        expose_value=False,
        callback=store("verbose"),
        help="Also say how each file was minified and how long the run took (on stderr).",
    )(f)
    f = click.option(
        "--json",
        "json_output",
        is_flag=True,
        default=False,
        expose_value=False,
        callback=store("json"),
        help="Print a machine-readable report on stdout.",
    )(f)
    return f


def policy_flag(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """One of the policy flags; two different ones on a command line are a usage error (exit 2)."""
    if value is None:
        return None
    seen = ctx.meta.setdefault("assetbuild.policy", {})
    flag = f"--{value}"
    other = next((f for f, v in seen.items() if v != value), None)
    if other is not None:
        raise click.UsageError(f"{other} and {flag} contradict each other; give one", ctx)
    seen[flag] = value
    chosen = ctx.meta.get("assetbuild.chosen")
    ctx.meta["assetbuild.chosen"] = chosen or value
    return value


def chosen_policy(ctx: click.Context) -> Policy | None:
    chosen: Policy | None = ctx.meta.get("assetbuild.chosen")
    return chosen
