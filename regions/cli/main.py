"""Entry point of the ``regions`` command.

Commands live in modules of this package and are imported on first use:
``count`` and ``bound`` (:mod:`regions.cli.count`), ``plot``, ``sweep`` and
the torch workflows where their engines are installed.
"""

from __future__ import annotations

import importlib

import click

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


class LazyGroup(click.Group):
    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def get_command(self, ctx, name):
        if name not in COMMANDS:
            return None
        module, attr = COMMANDS[name]
        return getattr(importlib.import_module(module), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="regions")
def main():
    """Exact linear regions of ReLU networks: count, bound, sweep, plot."""


if __name__ == "__main__":  # pragma: no cover
    main()
