"""Static analysis: every answer comes from ``Topology.route`` (latsim.compile), the function the
engine uses per request class, so an analysis and a simulated request cannot disagree.

* ``explain``  -- one request, stage by stage, plus the target groups it would reach;
* ``matrix``   -- every client x service (x listener) verdict, with clients grouped into
  equivalence classes (``equivalence``) so that thousands of clients and services stay fast;
  ``matrix_output`` writes it as CSV, JSON or a table;
* ``diff``     -- what changed between two topologies: flipped verdicts and edited resources;
* ``verify``   -- assertions checked exhaustively over equivalence classes of requests and callers;
* ``callgraph`` -- the calls target groups' code makes and the chains they form (call graphs),
  walked by explain, matrix, verify (``never_reaches``) and diff.
"""

from __future__ import annotations

from latsim.lazy import lazy_exports

# names -> the module that defines them; imported on first use (PEP 562), so that the CLI's
# sub-commands (``latsim.cli.analysis``) can name them without `latsim --help` loading the model
_EXPORTS = {"diff_scenarios": "diff", "explain": "explain", "explain_route": "explain", "Matrix": "matrix",
            "compute_matrix": "matrix", "Assertion": "verify", "VerifyReport": "verify",
            "parse_assertions": "verify", "verify": "verify"}


lazy_exports(__name__, _EXPORTS)

__all__ = ["Assertion", "Matrix", "VerifyReport", "compute_matrix", "diff_scenarios", "explain", "explain_route",
           "parse_assertions", "verify"]
