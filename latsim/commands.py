"""Registers the sub-commands that live beside their layers (run, explain, sweep, import, ...)."""

import importlib

for _module in ("latsim.cli_run", "latsim.analysis.cli", "latsim.studies.cli", "latsim.importers.cli",
                "latsim.report_cli", "latsim.cli_new"):
    try:
        importlib.import_module(_module)
    except ModuleNotFoundError as _exc:  # a layer that is not built yet
        if _exc.name != _module:
            raise
