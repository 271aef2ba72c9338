"""Sampled request traces as OpenTelemetry OTLP/JSON (``latsim run --out DIR --traces RATE``).

A ``Tracer`` picks entry requests (a client's logical request, retries included) with probability
``rate``, one uniform draw each from its own named stream (``traces/sample``), so the same seed
traces the same requests and no other draw moves. For a traced request the engine hands over at
a few points (``Simulation._enter``, ``lattice_response``, ``client_outcome``; a program
target's start, work steps, end and failure in ``latsim.engine.calls``) and the tracer builds the
span tree of the request through the call graph:

* the **request** (``INTERNAL``, the caller's service: the client, or the calling target group)
  from the first send to the final outcome, with one **attempt** child (``CLIENT``) per try —
  retries are sibling attempts;
* under each attempt the **Lattice hop** (``SERVER``, service ``vpc-lattice``) from the request's
  arrival at Lattice to Lattice's answer, with Lattice's ids and names (service, service network,
  listener, target group and target, status, failure reason, caller principal, source VPC);
* under the hop the **target** (``SERVER``, service: the target group) from the request's arrival
  at the target to the target's answer, with its ``queue`` (waiting for a worker) and ``work``
  children, and — for a target group with ``calls:`` — the request spans of its downstream calls,
  which nest the same way.

Times are the simulated times from the scenario's ``start_time``. Ids are derived from the seed
and a per-run counter (hashes, no random stream). Tracing switches the engine's fast path off
(as access logs do); the general path gives byte-identical results, so a traced run's summary is
the untraced one's. Spans are kept in memory (the sample is the user's choice) and written once at
the end of the run, grouped by service (``resourceSpans``), as the OTLP/HTTP JSON exporter sends
them and Jaeger (``Upload JSON``) and Grafana Tempo import them. A span still open when the run
ends (a request in flight) ends at the end of the run and carries ``latsim.unfinished: true``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from latsim import __version__
from latsim.atomic_write import atomic_write_text
from latsim.errors import UsageError
from latsim.metrics.access_log import caller_fields
from latsim.model.client import split_url
from latsim.results import request_labels

__all__ = ["FILE", "KIND_CLIENT", "KIND_INTERNAL", "KIND_SERVER", "LATTICE", "STATUS_ERROR", "Tracer",
           "parse_rate"]

FILE = "traces/traces.otlp.json"  # under the run directory
LATTICE = "vpc-lattice"  # the service.name of Lattice's hop spans
# OTLP enums (opentelemetry/proto/trace/v1/trace.proto): JSON carries them as integers
KIND_INTERNAL = 1
KIND_SERVER = 2
KIND_CLIENT = 3
STATUS_ERROR = 2


def parse_rate(text: str) -> float:
    """``--traces RATE``: a fraction 0..1 (``0.05``) or a percentage (``5%``)."""
    s = text.strip()
    try:
        rate = float(s[:-1]) / 100.0 if s.endswith("%") else float(s)
    except ValueError:
        raise UsageError(f"--traces {text!r}: expected a fraction 0..1 (0.05) or a percentage (5%)") from None
    if not 0.0 <= rate <= 1.0 or rate != rate:
        raise UsageError(f"--traces {text!r}: the sampling rate must be between 0 and 1 (0% and 100%)")
    return rate


class Span:
    """One span; ``end`` None while open; ``dropped``: never written (an attempt that reached no service)."""

    __slots__ = ("span_id", "parent", "name", "kind", "service", "start", "end", "attrs", "error", "dropped")

    def __init__(self, span_id: str, parent: str | None, name: str, kind: int, service: str, start: float) -> None:
        self.span_id = span_id
        self.parent = parent
        self.name = name
        self.kind = kind
        self.service = service
        self.start = start
        self.end: float | None = None
        self.attrs: dict[str, Any] = {}
        self.error: str | None = None  # the status message of an error
        self.dropped = False


class Trace:
    """One sampled entry request and everything it caused."""

    __slots__ = ("trace_id", "spans", "_salt")

    def __init__(self, trace_id: bytes) -> None:
        self.trace_id = trace_id.hex()
        self._salt = trace_id
        self.spans: list[Span] = []

    def span(self, parent: Span | None, name: str, kind: int, service: str, start: float) -> Span:
        sid = hashlib.blake2b(self._salt + len(self.spans).to_bytes(4, "big"), digest_size=8).hexdigest()
        sp = Span(sid, parent.span_id if parent is not None else None, name, kind, service, start)
        self.spans.append(sp)
        return sp


class Attempt:
    """What a traced ``Request`` (one attempt) carries: its trace and its spans."""

    __slots__ = ("trace", "logical", "number", "span", "lattice", "server")

    def __init__(self, trace: Trace, logical: Span, number: int) -> None:
        self.trace = trace
        self.logical = logical
        self.number = number
        self.span: Span = logical
        self.lattice: Span = logical
        self.server: Span | None = None


class Tracer:
    """Builds the traces of one run; ``write`` once at the end."""

    def __init__(self, scn: Any, rate: float) -> None:
        self.scn = scn
        self.rate = float(rate)
        self.traces: list[Trace] = []
        self._salt = f"latsim-trace/{scn.seed}/".encode()
        t0 = scn.start_time
        self._epoch_ns = int(t0.timestamp()) * 1_000_000_000 + t0.microsecond * 1000
        self._sample: Any = None
        self._services: dict[str, dict[str, Any]] = {}  # resource name -> its attributes
        self.sim: Any = None

    def bind(self, sim: Any) -> None:
        """Called by the simulation it traces (its own stream: no other draw moves)."""
        self.sim = sim
        self._sample = sim.streams.uniform("traces/sample")

    # -- hand-over points of the engine ----------------------------------------------------------
    def enter(self, req: Any, now: float) -> None:
        """An attempt reaches Lattice (``Simulation._enter``): sample a new entry request, or
        continue the trace of a retry or of a call made by a traced request."""
        att = req.trace
        if att is None:
            frame = req.parent
            if frame is None:  # an entry request: sampled once, at its first attempt
                if req.attempt != 1 or (self.rate < 1.0 and self._sample() >= self.rate):
                    return
                trace = Trace(hashlib.blake2b(self._salt + str(len(self.traces)).encode(), digest_size=16).digest())
                self.traces.append(trace)
                cs = req.client
                logical = trace.span(None, request_labels(cs.model)[req.spec], KIND_INTERNAL, cs.name, req.t_first)
                self._resource(cs.name, "client", cs.cc)
            else:  # a downstream call of a program whose request is traced
                up = frame.run.req.trace
                if up is None:
                    return
                cs = req.client
                trace = up.trace
                logical = trace.span(up.server, f"call {cs.step.service or cs.step.model.call}", KIND_INTERNAL, cs.tg,
                                     req.t_first)
                logical.attrs["latsim.call.step"] = cs.step.path
                logical.attrs["latsim.call.edge"] = cs.edge
            att = Attempt(trace, logical, 0)
        elif att.number == req.attempt:
            return
        att = Attempt(att.trace, att.logical, req.attempt)
        req.trace = att
        cs = req.client
        rc = cs.classes[req.spec]
        path = rc.route_path
        att.span = att.trace.span(att.logical, f"{rc.method} {path}", KIND_CLIENT, att.logical.service, req.t_send)
        a = att.span.attrs
        a["http.request.method"] = rc.method
        a["url.full"] = rc.url if path == split_url(rc.url)[3] else rc.url.rstrip("/") + path
        a["server.address"] = split_url(rc.url)[1]
        if req.attempt > 1:
            a["http.request.resend_count"] = req.attempt - 1
        att.lattice = att.trace.span(att.span, f"{rc.method} {path}", KIND_SERVER, LATTICE, now)

    def lattice(self, req: Any, t: float, status: int, failure: str | None, lattice: bool) -> None:
        """Lattice answers an attempt at ``t`` (``Simulation.lattice_response``)."""
        att: Attempt = req.trace
        sim = self.sim
        sp = att.lattice
        sp.end = t
        route = req.route
        svc = sim.topo.services[route.service]
        sp.name = f"{svc.name} {sp.name}"
        a = sp.attrs
        a["aws.vpc_lattice.service.name"] = svc.name
        a["aws.vpc_lattice.service.arn"] = svc.arn
        if route.service_network:
            a["aws.vpc_lattice.service_network.name"] = route.service_network
            a["aws.vpc_lattice.service_network.arn"] = sim.topo.networks[route.service_network].arn
        if route.listener:
            a["aws.vpc_lattice.listener.name"] = route.listener
        if route.rule:
            a["aws.vpc_lattice.rule.name"] = route.rule
        who = caller_fields(sim, req.client, route)
        a["aws.vpc_lattice.caller_principal"] = who["callerPrincipal"]
        a["aws.vpc_lattice.resolved_user"] = route.resolved_user or "-"
        a["aws.vpc_lattice.source_vpc.id"] = who["sourceVpcId"]
        a["aws.vpc_lattice.source_vpc.arn"] = who["sourceVpcArn"]
        a["aws.vpc_lattice.source_vpc.name"] = req.client.cc.vpc
        a["source.address"] = req.client.cc.ip
        tg = req.tg
        if tg is not None:
            a["aws.vpc_lattice.target_group.name"] = tg.name
            a["aws.vpc_lattice.target_group.arn"] = tg.arn
        srv = req.target
        if srv is not None:
            a["aws.vpc_lattice.target.id"] = srv.id
            a["aws.vpc_lattice.target.az"] = srv.az
        a["http.response.status_code"] = status
        a["aws.vpc_lattice.failure_reason"] = failure or "-"
        if failure == "ClientAccessDenied" and route.auth_denied_reason:
            a["aws.vpc_lattice.auth_denied_reason"] = route.auth_denied_reason
        if status >= 500 or failure is not None:
            sp.error = failure or f"HTTP {status}"
        if srv is None:
            return
        server = att.server
        if server is None and srv.program is None and req.t_end > 0.0:
            # a plain target: its queue and its service time, known in closed form
            end = min(req.t_end, t) if failure == "TargetConnectionClosed" else req.t_end
            server = self._server(att, req, srv, req.t_start)
            server.end = end
            if end > req.t_start:
                att.trace.span(server, "work", KIND_INTERNAL, srv.tg.name, req.t_start).end = end
        if server is not None and not lattice:  # the target's own answer
            server.attrs["http.response.status_code"] = status
            if status >= 500:
                server.error = f"HTTP {status}"

    def outcome(self, req: Any, t: float, status: int | None, failure: str | None, final: bool) -> None:
        """The caller learns the outcome of an attempt at ``t`` (``Simulation.client_outcome``);
        ``final``: no retry follows."""
        att: Attempt = req.trace
        if req.svc is None:
            att.lattice.dropped = True  # never reached a service: no Lattice hop
        for sp in (att.span, att.logical) if final else (att.span,):
            sp.end = t
            if status is not None:
                sp.attrs["http.response.status_code"] = status
            if failure is not None:
                sp.attrs["error.type"] = failure
            if status is None or status >= 400:
                sp.error = failure or f"HTTP {status}"
        if final:
            att.logical.attrs["latsim.attempts"] = req.attempt

    # -- program targets (latsim.engine.calls) ----------------------------------------------------
    def start(self, req: Any, srv: Any, now: float) -> None:
        """A program target starts serving ``req`` (it arrived at ``req.t_target``)."""
        self._server(req.trace, req, srv, now)

    def work(self, req: Any, t0: float, d: float, name: str = "work") -> None:
        att: Attempt = req.trace
        att.trace.span(att.server, name, KIND_INTERNAL, req.target.tg.name, t0).end = t0 + d

    def finish(self, req: Any, now: float, failed: bool) -> None:
        server = req.trace.server
        server.end = now
        if failed:
            server.error = "a call failed (on_error: fail)"

    def killed(self, req: Any, now: float) -> None:
        server = req.trace.server
        if server is not None and server.end is None:
            server.end = now
            server.error = "the target failed"

    def _server(self, att: Attempt, req: Any, srv: Any, start: float) -> Span:
        tg = srv.tg.name
        self._resource(tg, "target_group", srv.tg)
        rc = req.client.classes[req.spec]
        server = att.server = att.trace.span(att.lattice, f"{rc.method} {rc.route_path}", KIND_SERVER, tg, req.t_target)
        a = server.attrs
        a["aws.vpc_lattice.target_group.name"] = tg
        a["aws.vpc_lattice.target.id"] = srv.id
        a["aws.vpc_lattice.target.az"] = srv.az
        if srv.ip and srv.ip != "-":
            a["server.address"] = srv.ip
            a["server.port"] = srv.port
        if start > req.t_target:
            att.trace.span(server, "queue", KIND_INTERNAL, tg, req.t_target).end = start
        return server

    def _resource(self, name: str, kind: str, obj: Any) -> None:
        if name in self._services:
            return
        ix = self.scn.index
        vpc = obj.vpc if kind == "client" else obj.ctg.model.vpc
        attrs: dict[str, Any] = {"service.name": name, "cloud.provider": "aws", "cloud.region": self.scn.region,
                                 "latsim.kind": kind}
        v = ix.vpcs.get(vpc or "")
        if v is not None:
            attrs["cloud.account.id"] = ix.account_id(v.account)
        self._services[name] = attrs

    # -- the file ----------------------------------------------------------------------------------
    def document(self, end: float) -> dict[str, Any]:
        """The OTLP/JSON ``ExportTraceServiceRequest`` of every trace; spans still open end at ``end``."""
        by_service: dict[str, list[dict[str, Any]]] = {}
        for trace in self.traces:
            for sp in trace.spans:
                if sp.dropped:
                    continue
                by_service.setdefault(sp.service, []).append(self._span(trace, sp, end))
        resources = []
        for name in sorted(by_service):
            attrs = self._services.get(name) or {"service.name": name, "cloud.provider": "aws",
                                                 "cloud.region": self.scn.region, "latsim.kind": "lattice"}
            resources.append({"resource": {"attributes": _attributes(attrs)},
                              "scopeSpans": [{"scope": {"name": "latsim", "version": __version__},
                                              "spans": by_service[name]}]})
        return {"resourceSpans": resources}

    def _span(self, trace: Trace, sp: Span, end: float) -> dict[str, Any]:
        attrs = dict(sp.attrs)
        stop = sp.end
        if stop is None:
            stop = max(end, sp.start)
            attrs["latsim.unfinished"] = True
        out: dict[str, Any] = {"traceId": trace.trace_id, "spanId": sp.span_id}
        if sp.parent is not None:
            out["parentSpanId"] = sp.parent
        out.update({"name": sp.name, "kind": sp.kind, "startTimeUnixNano": self._ns(sp.start),
                    "endTimeUnixNano": self._ns(stop), "attributes": _attributes(attrs)})
        out["status"] = {"code": STATUS_ERROR, "message": sp.error} if sp.error is not None else {}
        return out

    def _ns(self, t: float) -> str:
        return str(self._epoch_ns + round(t * 1e9))

    def write(self, out_dir: str | Path, end: float) -> Path:
        """Write ``FILE`` under ``out_dir``; return its path."""
        path = Path(out_dir) / FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps(self.document(end), separators=(",", ":")) + "\n")
        return path

    @property
    def span_count(self) -> int:
        return sum(1 for tr in self.traces for sp in tr.spans if not sp.dropped)


def _attributes(attrs: dict[str, Any]) -> list[dict[str, Any]]:
    """OTLP ``KeyValue``s: 64-bit integers as strings, as the protobuf JSON mapping writes them."""
    out = []
    for k, v in attrs.items():
        if isinstance(v, bool):
            val: dict[str, Any] = {"boolValue": v}
        elif isinstance(v, int):
            val = {"intValue": str(v)}
        elif isinstance(v, float):
            val = {"doubleValue": v}
        else:
            val = {"stringValue": str(v)}
        out.append({"key": k, "value": val})
    return out
