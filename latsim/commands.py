"""Registers the sub-commands that live beside their layers (run, explain, sweep, import, ...)."""

import importlib

COMMAND_MODULES = ("latsim.cli_run", "latsim.analysis.cli", "latsim.studies.cli", "latsim.importers.cli",
                   "latsim.report_cli", "latsim.cli_new")

for _module in COMMAND_MODULES:
    try:
        importlib.import_module(_module)
    except ModuleNotFoundError as _exc:  # a layer that is not installed in this build
        if not _exc.name or not (_module == _exc.name or _module.startswith(_exc.name + ".")):
            raise
