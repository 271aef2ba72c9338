"""Call graphs in the static analysis: the calls a target group's code makes, and where they lead.

One walk, used by ``explain`` (the chain of one request, hop by hop), ``matrix`` (calling target
groups as rows), ``verify`` (``never_reaches``) and ``diff`` (call edges and hop verdicts).
Nothing here decides anything Lattice decides: a hop is ``Topology.route`` from the calling
group's caller view (``Topology.caller``: the group's VPC, one target's AZ, address and security
groups, the group's principal) for the request the step sends (``RequestClass.of_call``), and
whether a step runs for the request its group serves is ``call_applies`` -- the functions the
engine calls for the same steps.

Which targets run the code of a group for a forwarded request is the static view ``explain``
gives of a target group: the targets in rotation (health-checked ones whose security group admits
the health check, or all of them when none does: fail-open) whose security group admits the
traffic, for a request whose protocol the group accepts. ``explain`` and ``matrix`` show the
first such target's view; ``verify`` follows every target's view (a hop allowed from any target
is a hop the graph has).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from latsim.compile import (
    FORWARDED,
    CompiledClient,
    RequestClass,
    Route,
    Topology,
    call_applies,
    compile_match,
    protocol_error,
)
from latsim.delivery import decide
from latsim.model.calls import CallStep, walk_steps
from latsim.model.client import split_url

Guard = tuple[Callable[..., bool] | None, float]  # a step's compiled ``when`` and its probability


@dataclass(frozen=True)
class CallSite:
    """One ``call`` step of a target group's ``calls:``, with the guards of the steps around it
    (a branch of a ``parallel`` step runs only if the parallel step does)."""

    tg: str
    keys: tuple[int | str, ...]  # below ``calls``: (2, 'parallel', 0)
    step: CallStep
    rc: RequestClass
    service: str | None  # the service the URL's host names (None: no service answers to it)
    guards: tuple[Guard, ...]

    @property
    def path(self) -> str:
        """Where the step is written: ``calls.2.parallel.0``."""
        return ".".join(["calls", *map(str, self.keys)])

    @property
    def label(self) -> str:
        return self.step.label

    @property
    def probability(self) -> float:
        p = 1.0
        for _, q in self.guards:
            p *= q
        return p

    @property
    def conditional(self) -> bool:
        """Made for some requests only, by chance (a ``probability`` below 1 on the way)."""
        return self.probability < 1.0

    def applies(self, served: RequestClass) -> bool:
        """Is the call made (possibly) while the group serves ``served``? Every ``when`` on the
        way matches it and no probability on the way is 0."""
        return all(p > 0.0 and call_applies(w, served) for w, p in self.guards)

    def describe(self) -> str:
        return f"{self.tg} -> {self.service or split_url(self.rc.url)[1]}"


@dataclass
class Hop:
    """One call of a chain: the step, its route from the calling group, the calls of the groups
    it is forwarded to (for the request it sends) and a note when the group's targets disagree."""

    site: CallSite
    view: CompiledClient
    route: Route
    calls: list[Hop] = field(default_factory=list)
    note: str | None = None

    def walk(self) -> Iterator[Hop]:
        yield self
        for h in self.calls:
            yield from h.walk()


def walk_hops(hops: list[Hop]) -> Iterator[Hop]:
    """Every hop of a chain, depth first."""
    for h in hops:
        yield from h.walk()


class CallGraph:
    """The call steps of a compiled topology, their routes (cached) and the chains they form."""

    def __init__(self, topo: Topology) -> None:
        self.topo = topo
        self._sites: dict[str, list[CallSite]] = {}
        self._whens: dict[str, dict[tuple[int | str, ...], Callable[..., bool] | None]] = {}
        self._routes: dict[tuple[int, str, tuple[int | str, ...]], Route] = {}
        self._running: dict[tuple[str, str, str], list[CompiledClient]] = {}
        self._reach: dict[tuple[str, RequestClass, str, frozenset[str]],
                          list[tuple[CallSite, CompiledClient, Route]] | None] = {}

    # -- the graph's parts ---------------------------------------------------------------------
    def callers(self) -> list[str]:
        """Target groups that can call services (a VPC, and calls or a principal), in scenario order."""
        return [tg.name for tg in self.topo.scn.target_groups if self.topo.is_caller(tg.name)]

    def sites(self, tg: str) -> list[CallSite]:
        """Every call step of ``tg``, depth first (parallel branches in order)."""
        cached = self._sites.get(tg)
        if cached is not None:
            return cached
        ctg = self.topo.target_groups.get(tg)
        out: list[CallSite] = []
        guards: dict[tuple[int | str, ...], Guard] = {}
        if ctg is not None:
            for keys, step in walk_steps(ctg.model.calls):
                guards[keys] = (compile_match(step.when) if step.when is not None else None, step.probability)
                if step.call is None:
                    continue
                # the guards of the enclosing parallel steps: every prefix of the key path that is a step
                chain = tuple(guards[keys[:n]] for n in range(1, len(keys) + 1) if keys[:n] in guards)
                host = split_url(step.call)[1]
                out.append(CallSite(tg, keys, step, RequestClass.of_call(step), self.topo.hosts.get(host), chain))
        self._sites[tg] = out
        self._whens[tg] = {k: w for k, (w, _) in guards.items()}
        return out

    def view(self, tg: str) -> CompiledClient:
        """The group's code as a caller, as ``explain --client TG`` and ``matrix`` show it."""
        return self.topo.caller(tg)

    def running_views(self, tg: str, served: RequestClass) -> list[CompiledClient]:
        """One caller view per target that runs the group's code for a forwarded ``served``
        request (see the module docstring); empty when no target does or the group has no VPC."""
        ctg = self.topo.target_groups.get(tg)
        if ctg is None or ctg.model.vpc is None:
            return []
        key = (tg, served.protocol, served.method)
        hit = self._running.get(key)
        if hit is None:
            hit = []
            if protocol_error(served.protocol, ctg.model, served.method) is None:
                checked = ctg.model.health_check_enabled
                healthy = [ct for ct in ctg.targets if not checked or ct.sg_allows_health[0]]
                rotation = healthy or list(ctg.targets)
                hit = [self.topo.caller(tg, ct) for ct in rotation if ct.sg_allows_traffic[0]]
            self._running[key] = hit
        return hit

    def route(self, site: CallSite, view: CompiledClient) -> Route:
        """The decision for a call step from one view of its group (cached)."""
        key = (id(view), site.tg, site.keys)
        r = self._routes.get(key)
        if r is None:
            r = self._routes[key] = decide(self.topo, view, site.rc)
        return r

    def next_groups(self, route: Route) -> list[str]:
        """The target groups a forwarded request may go to: every group with a weight above 0 (all
        of them when every weight is 0 and the split is then equal; none for a fixed 500)."""
        if route.outcome != FORWARDED or route.action is None:
            return []
        shares = route.target_groups
        if sum(shares.values()) > 0:
            return [name for name, w in shares.items() if w > 0]
        return list(shares) if route.action.all_zero_policy == "equal_split" else []

    # -- what a group's code does for one request ----------------------------------------------
    def made(self, tg: str, served: RequestClass, view: CompiledClient,
             fails: Callable[[CallSite, Route], bool] | None = None) -> tuple[list[tuple[CallSite, Route]], bool]:
        """The calls ``tg``'s code makes from ``view`` while serving ``served``, in program order,
        and whether the program surely fails. A call that surely fails (``fails``; by default: it
        is not forwarded -- denied, unreachable or a fixed response, all final whatever the
        retries) with ``on_error: fail`` and nothing left to chance ends its sequence as in the
        engine: the steps after it are not made, and a failed branch ends the parallel step's
        sequence once every branch is done."""
        fails = fails or _not_forwarded
        calls = self.topo.target_groups[tg].model.calls
        by_keys = {s.keys: s for s in self.sites(tg)}
        whens = self._whens[tg]
        out: list[tuple[CallSite, Route]] = []

        def run(items: list[tuple[tuple[int | str, ...], CallStep]]) -> bool:
            for keys, step in items:
                if step.probability <= 0.0 or not call_applies(whens.get(keys), served):
                    continue
                failed = False
                if step.call is not None:
                    site = by_keys[keys]
                    r = self.route(site, view)
                    out.append((site, r))
                    failed = fails(site, r) and step.on_error == "fail"
                elif step.parallel is not None:
                    results = [run([(keys + ("parallel", j), b)]) for j, b in enumerate(step.parallel)]
                    failed = any(results)
                if failed and step.probability >= 1.0:
                    return True
            return False

        failed = run([((i,), st) for i, st in enumerate(calls)])
        return out, failed

    # -- chains ----------------------------------------------------------------------------------
    def chain(self, route: Route, served: RequestClass, stack: tuple[str, ...] = ()) -> tuple[list[Hop], bool]:
        """The calls made by the code of every group ``route`` forwards ``served`` to, recursively
        (what ``explain`` shows: the first running target's view of each group), and whether the
        request surely fails downstream: every group it may go to runs no code or a program that
        surely fails (it answers 500)."""
        hops: list[Hop] = []
        groups = self.next_groups(route)
        failing = 0
        for tg in groups:
            group, failed = self.group_hops(tg, served, stack)
            hops += group
            failing += failed
        return hops, bool(groups) and failing == len(groups)

    def group_hops(self, tg: str, served: RequestClass, stack: tuple[str, ...] = ()) -> tuple[list[Hop], bool]:
        """The calls ``tg``'s code makes while serving ``served``, each with its own chain, and
        whether the group surely answers with an error (no target runs its code, or the program
        surely fails)."""
        if tg in stack:  # a cycle (validate refuses them): not followed
            return [], False
        views = self.running_views(tg, served)
        if not views:
            return [], True
        view = views[0]
        chains: dict[tuple[int | str, ...], tuple[list[Hop], bool]] = {}

        def fails(site: CallSite, r: Route) -> bool:
            if r.outcome != FORWARDED:
                return True
            chains[site.keys] = self.chain(r, site.rc, stack + (tg,))
            return chains[site.keys][1]

        made, failed = self.made(tg, served, view, fails)
        out = []
        for site, r in made:
            calls = chains[site.keys][0] if site.keys in chains else []
            out.append(Hop(site, view, r, calls, self._divergence(site, views, r)))
        return out, failed

    def _divergence(self, site: CallSite, views: list[CompiledClient], first: Route) -> str | None:
        """A note when other targets of the group get another verdict than the one shown."""
        odd = []
        for v in views[1:]:
            r = self.route(site, v)
            if (r.outcome, r.status, r.failure) != (first.outcome, first.status, first.failure):
                odd.append(f"from {v.ip} ({v.model.az}): {r.outcome}" + (f" {r.status}" if r.status else ""))
        if not odd:
            return None
        return f"other targets of {site.tg} differ: " + "; ".join(odd[:3]) + (" ..." if len(odd) > 3 else "")

    def reach(self, tg: str, served: RequestClass, service: str, stack: tuple[str, ...] = (),
              avoid: frozenset[str] = frozenset()) -> list[tuple[CallSite, CompiledClient, Route]] | None:
        """A chain of forwarded calls by which ``tg``'s code, serving ``served``, gets a request
        forwarded by ``service`` (directly or through other groups' code), from any of its
        targets; None if there is none. The code of the groups in ``avoid`` is not followed."""
        key = (tg, served, service, avoid)
        if key in self._reach:
            return self._reach[key]
        found = None
        if tg not in stack and tg not in avoid:
            found = self._search(tg, served, service, stack + (tg,), avoid)
        self._reach[key] = found
        return found

    def _search(self, tg: str, served: RequestClass, service: str, stack: tuple[str, ...],
                avoid: frozenset[str]) -> list[tuple[CallSite, CompiledClient, Route]] | None:
        for view in self.running_views(tg, served):
            made, _ = self.made(tg, served, view)
            for site, r in made:
                if r.outcome != FORWARDED:
                    continue
                if r.service == service:
                    return [(site, view, r)]
                for nxt in self.next_groups(r):
                    sub = self.reach(nxt, site.rc, service, stack, avoid)
                    if sub is not None:
                        return [(site, view, r), *sub]
        return None

    def reach_from(self, route: Route, served: RequestClass, service: str, avoid: frozenset[str] = frozenset()
                   ) -> list[tuple[CallSite, CompiledClient, Route]] | None:
        """A chain from a forwarded ``route`` of ``served`` to ``service``, through the code of the
        groups it is forwarded to (but those of ``avoid``); None if there is none."""
        for tg in self.next_groups(route):
            found = self.reach(tg, served, service, avoid=avoid)
            if found is not None:
                return found
        return None

    def starts(self, tg: str) -> list[tuple[CallSite, CompiledClient, Route]]:
        """Every call ``tg``'s code may make, from each of its targets (a group as the first caller
        of a chain: whatever request it serves, so every ``when`` may match)."""
        out = []
        ctg = self.topo.target_groups[tg]
        views = [self.topo.caller(tg, ct) for ct in ctg.targets] or [self.view(tg)]
        for view in views:
            for site in self.sites(tg):
                if all(p > 0.0 for _, p in site.guards):
                    out.append((site, view, self.route(site, view)))
        return out


def _not_forwarded(site: CallSite, route: Route) -> bool:
    return route.outcome != FORWARDED


def hop_counts(hops: list[Hop]) -> dict[str, Any]:
    """How many calls a chain makes, by outcome, and its first call that is not forwarded."""
    counts: dict[str, int] = {}
    first: Hop | None = None
    total = 0
    for h in walk_hops(hops):
        total += 1
        counts[h.route.outcome] = counts.get(h.route.outcome, 0) + 1
        if first is None and h.route.outcome != FORWARDED:
            first = h
    return {"calls": total, "by_outcome": dict(sorted(counts.items())), "first_failure": first}


__all__ = ["CallGraph", "CallSite", "Hop", "hop_counts", "walk_hops"]
