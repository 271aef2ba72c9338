"""latsim: a discrete-event simulator of Amazon VPC Lattice.

The public API: build or load a ``Scenario``, ``simulate`` it, ``explain`` a request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from latsim import native
from latsim.errors import LatsimError, ScenarioError

if TYPE_CHECKING:
    from latsim.model import Scenario

__version__ = "0.1.0"

native.install()  # the compiled engine, where a build of these very sources exists (latsim/native.py)


def __getattr__(name: str) -> Any:
    # ``latsim.Scenario`` imports the model (pydantic, numpy) on first use only: `latsim --help`
    # must not pay for it
    if name == "Scenario":
        from latsim.model import Scenario
        return Scenario
    raise AttributeError(f"module 'latsim' has no attribute {name!r}")


def load(path: str, **overrides: Any) -> Scenario:
    """Read and validate a scenario file (YAML or JSON)."""
    from latsim.scenario import load_scenario
    return load_scenario(path, overrides=overrides or None)


def loads(text: str, name: str = "<string>", **overrides: Any) -> Scenario:
    """Validate a scenario given as YAML or JSON text (errors are located in ``name``)."""
    from latsim.scenario import apply_overrides, parse_document, scenario_from_data
    data, pos = parse_document(text, name)
    if isinstance(data, dict):
        data = apply_overrides(data, overrides)
    return scenario_from_data(data, pos)


def simulate(scn: Scenario, *, access_logs: str | None = None, **kwargs: Any) -> Any:
    """Run a scenario; returns a ``latsim.results.Result``.

    ``access_logs="DIR"`` writes Lattice-format access logs for every service under DIR (read
    them back with ``latsim.metrics.access_log.read_access_logs(DIR)``)."""
    from latsim.engine import simulate as _simulate
    if access_logs is None:
        return _simulate(scn, **kwargs)
    from latsim.metrics.access_log import AccessLogWriter
    writer = AccessLogWriter.for_run(scn, access_logs, all_services=True)
    try:
        return _simulate(scn, access_log=writer, **kwargs)
    finally:
        writer.close()


__all__ = ["LatsimError", "Scenario", "ScenarioError", "__version__", "load", "loads", "simulate"]
