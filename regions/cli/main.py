"""Entry point of the ``regions`` command.

Commands live in modules of this package and are imported on first use:
``count`` and ``bound`` (:mod:`regions.cli.count`), ``plot``, ``sweep`` and
the torch workflows where their engines are installed.

Bad input never shows a traceback: usage errors, the library's
:class:`~regions.errors.RegionsError` and file errors end in one sentence
on standard error and exit code 2.  Warnings raised on the way are shown
(one line each) only when the command succeeds; a refused run prints its
sentence alone.
"""

from __future__ import annotations

import importlib
import sys
import warnings

import click

from regions import __version__
from regions.errors import RegionsError

# command name -> (module, attribute); imported lazily so `regions --help` is fast
COMMANDS = {
    "count": ("regions.cli.count", "count"),
    "bound": ("regions.cli.count", "bound"),
    "plot": ("regions.cli.plot", "plot"),
    "sweep": ("regions.cli.sweep", "sweep"),
    "slice": ("regions.cli.workflows", "slice_cmd"),
    "train-digits": ("regions.cli.workflows", "train_digits"),
    "checkpoints": ("regions.cli.workflows", "checkpoints"),
    "local": ("regions.cli.local", "local"),
}


def _sentence(text: str) -> str:
    """One line: the first line of a message, without a trailing newline."""
    lines = [line.strip() for line in str(text).strip().splitlines() if line.strip()]
    return " ".join(lines) if lines else "an error without a message"


class LazyGroup(click.Group):
    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def get_command(self, ctx, name):
        if name not in COMMANDS:
            return None
        module, attr = COMMANDS[name]
        return getattr(importlib.import_module(module), attr)

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        """Run the command; every refusal is one line on stderr and exit code 2."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        with warnings.catch_warnings(record=True) as caught:  # the filters in force stay as they are
            try:
                rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
            except click.exceptions.Abort:
                click.echo("Aborted.", err=True)
                sys.exit(1)
            except click.ClickException as exc:
                message = _sentence(exc.format_message())
                if isinstance(exc, click.BadParameter) and str(exc.message).startswith("expected "):
                    message = _sentence(exc.message)  # our own types name the option already
                if isinstance(exc, click.UsageError) and exc.ctx is not None:
                    message += f" (see '{exc.ctx.command_path} --help')"
                click.echo(f"Error: {message}", err=True)
                sys.exit(2 if isinstance(exc, click.UsageError) else max(exc.exit_code, 2))
            except RegionsError as exc:  # safety net: commands turn these into sentences themselves
                click.echo(f"Error: {_sentence(exc)}", err=True)
                sys.exit(2)
            except (OSError, MemoryError) as exc:
                what = f"{exc.strerror}: {exc.filename!r}" if getattr(exc, "filename", None) else str(exc)
                click.echo(f"Error: {type(exc).__name__}: {_sentence(what)}", err=True)
                sys.exit(2)
            except KeyboardInterrupt:
                click.echo("interrupted", err=True)
                sys.exit(130)
        seen = set()
        for w in caught:  # the run succeeded: show what it warned about, once each, one line each
            text = f"{w.category.__name__}: {_sentence(w.message)}"
            if text not in seen:
                seen.add(text)
                click.echo(f"warning: {text}", err=True)
        sys.exit(rv if isinstance(rv, int) else 0)


@click.group(cls=LazyGroup, invoke_without_command=True,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(version=__version__, package_name="regions")
@click.pass_context
def main(ctx):
    """Exact linear regions of ReLU networks: count, bound, sweep, plot."""
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


if __name__ == "__main__":  # pragma: no cover
    main()
