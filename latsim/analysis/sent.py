"""The "sent" view of ``latsim matrix`` and ``latsim diff``: a client's cells are the requests
it actually sends, each at its own ``url``.

The full matrix (``latsim.analysis.matrix``, ``--reach``) answers another question, "what could
this client reach": it replays the client's request mix against every listener of every
service. This view answers "what happens to the traffic this client sends": each distinct
request of the mix is decided once (``latsim.delivery.decide``, the same decision as ``explain`` and the
engine) at its own URL, and the cells are the endpoints it addresses -- so a request that the
simulation sends to inventory is never shown as a 404 from checkout.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from latsim.analysis.endpoints import LISTENER_SCHEME, Endpoint
from latsim.analysis.equivalence import Verdict, summary, verdict_of
from latsim.analysis.matrix import CSV_COLUMNS, VERDICTS
from latsim.compile import FORWARDED, RequestClass, Topology
from latsim.delivery import decide
from latsim.model.client import Client, split_url

VIEW = "sent"


def endpoint_of(topo: Topology, rc: RequestClass) -> Endpoint:
    """The listener a request addresses (listener "-" when its host names no service, or the
    service has no listener on its port)."""
    scheme, host, port, _ = split_url(rc.url)
    name = topo.hosts.get(host.lower().rstrip("."))
    if name is None:
        return Endpoint(host, "-", port, scheme, host)
    lst = topo.services[name].listeners.get(port)
    if lst is None:
        return Endpoint(name, "-", port, scheme, host)
    return Endpoint(name, lst.name, port, LISTENER_SCHEME.get(lst.protocol, scheme), host)


def sent_requests(client: Client, *, path: str | None = None, method: str | None = None) -> list[RequestClass]:
    """The distinct requests of a client's mix, each with its own URL (``path``/``method``
    replace the mix's)."""
    seen: dict[RequestClass, None] = {}
    for spec in client.requests:
        rc = RequestClass.of(client, spec)
        if path is not None or method is not None:
            _, _, _, url_path = split_url(rc.url)
            p = rc.path if rc.path != "/" or url_path == "/" else url_path
            rc = RequestClass(rc.url, method or rc.method, path or p, rc.headers, rc.query, rc.protocol)
        seen.setdefault(rc, None)
    return list(seen)


@dataclass
class SentCell:
    client: str
    endpoint: Endpoint
    requests: list[RequestClass]
    results: list[Verdict]
    caller_type: str = "client"  # or "target_group": a group whose code calls services (its calls)

    @property
    def verdict(self) -> str:
        first = self.results[0].outcome
        return first if all(v.outcome == first for v in self.results) else "mixed"

    def main(self) -> Verdict:
        return next((v for v in self.results if v.outcome != FORWARDED), self.results[0])

    def tail(self) -> tuple[Any, ...]:
        return summary(self.results)

    def to_dict(self) -> dict[str, Any]:
        e = self.endpoint
        d: dict[str, Any] = {"client": self.client, "service": e.service, "listener": e.listener, "port": e.port}
        if self.caller_type != "client":
            d["caller_type"] = self.caller_type
        d.update(dict(zip(CSV_COLUMNS[4:], self.tail(), strict=True)))
        d["target_groups"] = dict(self.main().target_groups)
        d["requests"] = [{"url": r.url, "method": r.method, "path": r.path, "headers": dict(r.headers),
                          "protocol": r.protocol, "outcome": v.outcome, "status": v.status, "failure": v.failure,
                          "rule": v.rule, "auth_denied_reason": v.auth_denied_reason, "reason": v.reason}
                         for r, v in zip(self.requests, self.results, strict=True)]
        return d


@dataclass
class SentMatrix:
    """Each client's cells: the endpoints its requests address, in the order it first sends there."""

    clients: list[str]
    cells: list[SentCell] = field(default_factory=list)
    view: str = VIEW

    @property
    def endpoints(self) -> list[Endpoint]:
        return list(dict.fromkeys(c.endpoint for c in self.cells))

    def cell(self, client: str, service: str, listener: str | None = None) -> SentCell:
        for c in self.cells:
            if c.client == client and c.endpoint.service == service and (listener is None or
                                                                         c.endpoint.listener == listener):
                return c
        raise KeyError(f"{client} sends nothing to {service}{'/' + listener if listener else ''}")

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(VERDICTS, 0)
        out.update(Counter(c.verdict for c in self.cells))
        return out

    def stats(self) -> dict[str, Any]:
        return {"view": self.view, "clients": len(self.clients), "endpoints": len(self.endpoints),
                "cells": len(self.cells), "requests": sum(len(c.requests) for c in self.cells),
                "by_verdict": self.counts()}

    def rows(self) -> Iterator[tuple[Any, ...]]:
        for c in self.cells:
            e = c.endpoint
            yield (c.client, e.service, e.listener, e.port) + c.tail()

    def write_csv(self, fh: IO[str]) -> None:
        import csv
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(CSV_COLUMNS)
        w.writerows(self.rows())

    def to_dict(self) -> dict[str, Any]:
        return {"clients": list(self.clients),  # the reach view's keys; the view is named in summary
                "endpoints": [{"service": e.service, "listener": e.listener, "port": e.port, "scheme": e.scheme,
                               "url": e.url} for e in self.endpoints],
                "cells": [c.to_dict() for c in self.cells], "summary": self.stats()}

    def write_json(self, fh: IO[str]) -> None:
        json.dump(self.to_dict(), fh, indent=1)
        fh.write("\n")


def sent_matrix(topo: Topology, *, clients: list[str] | None = None, path: str | None = None,
                method: str | None = None) -> SentMatrix:
    """The sent view of every client (or of ``clients``)."""
    names = list(clients) if clients is not None else list(topo.clients)
    m = SentMatrix(list(names))
    for name in names:
        cc = topo.clients[name]
        _add_cells(m, topo, name, cc, sent_requests(cc.model, path=path, method=method), "client")
    if clients is None:  # then the target groups whose code calls services: their calls, from their view
        from latsim.model.calls import walk_steps
        for tg, ctg in topo.target_groups.items():
            if not topo.is_caller(tg):
                continue
            calls = list(dict.fromkeys(RequestClass.of_call(st) for _, st in walk_steps(ctg.model.calls)
                                       if st.call is not None))
            if calls:
                m.clients.append(tg)
                _add_cells(m, topo, tg, topo.caller(tg), calls, "target_group")
    return m


def _add_cells(m: SentMatrix, topo: Topology, name: str, cc: Any, requests: list[RequestClass],
               caller_type: str) -> None:
    by_ep: dict[Endpoint, SentCell] = {}
    for rc in requests:
        ep = endpoint_of(topo, rc)
        c = by_ep.get(ep)
        if c is None:
            c = by_ep[ep] = SentCell(name, ep, [], [], caller_type)
            m.cells.append(c)
        c.requests.append(rc)
        c.results.append(verdict_of(decide(topo, cc, rc)))


_STYLE = {"forwarded": "green", "fixed_response": "yellow", "denied": "red", "unreachable": "red",
          "target_failure": "red", "mixed": "yellow"}


def render_sent(m: SentMatrix, console: Any) -> None:
    """One line per client x endpoint it sends to, with the verdict and its reason."""
    from rich.markup import escape as e
    from rich.table import Table
    t = Table(title="what each client's requests get (rows: the endpoints each client sends to; "
                    "--reach for what it could reach)", title_justify="left")
    for col in ("client", "service", "listener", "requests", "verdict", "status", "reason"):
        t.add_column(col)
    for c in m.cells:
        style = _STYLE.get(c.verdict, "")
        tail = c.tail()
        t.add_row(e(c.client) if c.caller_type == "client" else f"[italic]{e(c.client)}[/italic]", e(c.endpoint.service), e(c.endpoint.listener), str(len(c.requests)),
                  f"[{style}]{c.verdict}[/{style}]", "" if tail[1] is None else str(tail[1]), e(str(tail[-1])))
    console.print(t)
    counts = ", ".join(f"{k} {v:,}" for k, v in m.counts().items() if v)
    console.print(f"{len(m.cells):,} cells ({counts})", markup=False)
    if any(c.caller_type != "client" for c in m.cells):
        console.print("[italic]italic[/italic] rows: target groups whose code calls services (their calls)")


__all__ = ["SentCell", "SentMatrix", "endpoint_of", "render_sent", "sent_matrix", "sent_requests"]
