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

from latsim.analysis.diff import diff_scenarios
from latsim.analysis.explain import explain, explain_route
from latsim.analysis.matrix import Matrix, compute_matrix
from latsim.analysis.verify import Assertion, VerifyReport, parse_assertions, verify

__all__ = ["Assertion", "Matrix", "VerifyReport", "compute_matrix", "diff_scenarios", "explain", "explain_route",
           "parse_assertions", "verify"]
