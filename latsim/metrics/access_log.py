"""Lattice access logs (docs/lattice.md §8.2): one JSON object per request attempt that reached a
service, with Lattice's own field names, streamed to disk as the simulation runs.

Subscriptions are per service or per service network, as ``CreateAccessLogSubscription`` makes
them: a service subscription logs every request to that service; a service-network subscription
logs the requests that entered through that network (an SN owner sees only traffic from VPCs
connected to the SN). Each subscription is one stream:

* ``layout: flat`` — ``access_logs/<service>.jsonl`` and ``access_logs/service-networks/<sn>.jsonl``
  (``.jsonl.gz`` with ``gzip``);
* ``layout: s3`` — the key shape Lattice delivers to S3,
  ``AWSLogs/<acct>/VpcLattice/AccessLogs/<region>/<yyyy>/<mm>/<dd>/<resource-id>/<file>``, one object
  per resource and simulated hour.

Records are written in the order Lattice answered, as in real logs (so ``startTime`` is not
strictly sorted). Nothing is kept in memory but open, buffered file handles; sampling (``sample``)
keeps a record when a hash of its ``requestId`` falls below the fraction, so the same seed keeps
the same records and the decision never consumes a random stream. ``requestId`` is UUID-shaped
and derived from the seed and a per-run counter.

Modelling notes: ``bytesReceived``/``bytesSent`` are the simulated body sizes (header bytes are
not modelled), so they add up to the ``TotalReceivedBytes``/``TotalSentBytes`` metrics;
``responseFromTargetDuration`` is 0 when the target answered, because the model has no response
transfer time; TLS fields describe the listener (no handshake is simulated).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlencode

from latsim.errors import LatsimError, Location
from latsim.model.client import split_url
from latsim.model.naming import vpc_arn

__all__ = ["FIELDS", "AccessLogWriter", "Subscription", "read_access_logs", "s3_key"]

# Every field of a service access-log record, in the order they are written.
FIELDS = (
    "startTime", "duration", "requestToTargetDuration", "responseFromTargetDuration",
    "requestMethod", "requestPath", "protocol", "hostHeader", "userAgent",
    "responseCode", "grpcResponseCode", "failureReason", "authDeniedReason", "resolvedUser",
    "callerPrincipal", "callerPrincipalOrgID", "callerPrincipalTags",
    "callerX509SubjectCN", "callerX509IssuerOU", "callerX509SANNameCN", "callerX509SANDNS", "callerX509SANURI",
    "serviceNetworkArn", "serviceArn", "targetGroupArn",
    "sourceVpcArn", "sourceVpcId", "destinationVpcId", "sourceIpPort", "targetIpPort",
    "tlsVersion", "sslCipher", "serverNameIndication",
    "bytesReceived", "bytesSent", "requestId", "listenerId", "listenerType",
)

# The TLS a Lattice HTTPS listener negotiates with a modern client (no handshake is simulated).
TLS_VERSION = "TLSv1.2"
SSL_CIPHER = "ECDHE-RSA-AES128-GCM-SHA256"

# HTTP status -> gRPC status code (the gRPC project's HTTP-to-gRPC mapping); 200 is OK (0).
_GRPC_CODES = {200: 0, 400: 13, 401: 16, 403: 7, 404: 12, 429: 14, 502: 14, 503: 14, 504: 14}
_GRPC_UNKNOWN = 2

MAX_OPEN_FILES = 64  # streams beyond this are closed least-recently-used and reopened to append


class Subscription:
    """One access-log subscription: a service (``kind='service'``) or a service network."""

    __slots__ = ("kind", "name", "resource_id", "account_id")

    def __init__(self, kind: str, name: str, resource_id: str, account_id: str) -> None:
        self.kind = kind
        self.name = name
        self.resource_id = resource_id
        self.account_id = account_id

    def __repr__(self) -> str:
        return f"Subscription({self.kind}, {self.name})"


def s3_key(acct: str, region: str, resource_id: str, when: datetime, *, gz: bool) -> str:
    """The S3 object key Lattice would deliver the logs of ``resource_id`` for the hour of ``when``."""
    stamp = when.strftime("%Y%m%dT%H00Z")
    digest = hashlib.sha256(f"{acct}/{resource_id}/{stamp}".encode()).hexdigest()[:8]
    name = f"{acct}_vpclatticeaccesslogs_{region}_{resource_id}_{stamp}_{digest}.json" + (".gz" if gz else "")
    return (f"AWSLogs/{acct}/VpcLattice/AccessLogs/{region}/{when:%Y}/{when:%m}/{when:%d}/"
            f"{resource_id}/{name}")


class AccessLogWriter:
    """Streams access-log records for a set of subscriptions; ``write`` is called by the engine
    once per request attempt that reached a service, ``close`` once at the end of the run."""

    def __init__(self, scn: Any, out_dir: str | Path, *, services: Iterable[str] = (),
                 service_networks: Iterable[str] = (), gzip: bool = False, sample: float = 1.0,
                 layout: str = "flat") -> None:
        if not 0.0 < sample <= 1.0:
            raise LatsimError(f"access-log sample must be in (0, 1], got {sample}",
                              location=Location(path="access_logs.sample"))
        if layout not in ("flat", "s3"):
            raise LatsimError(f"access-log layout must be flat or s3, got {layout!r}",
                              location=Location(path="access_logs.layout"))
        self.scn = scn
        self.out_dir = Path(out_dir)
        self.gzip = gzip
        self.sample = float(sample)
        self.layout = layout
        ix = scn.index
        self.services: dict[str, Subscription] = {}
        for name in services:
            svc = _lookup(ix.services, name, "access_logs.services", "service")
            self.services[name] = Subscription("service", name, svc.service_id, ix.account_id(svc.account))
        self.networks: dict[str, Subscription] = {}
        for name in service_networks:
            sn = _lookup(ix.service_networks, name, "access_logs.service_networks", "service network")
            self.networks[name] = Subscription("service_network", name, sn.sn_id, ix.account_id(sn.account))
        self._seed = str(scn.seed).encode()
        self._start = scn.start_time.astimezone(UTC)
        self._counter = 0
        self._threshold = int(self.sample * 2**64)
        self._handles: OrderedDict[Path, IO[str]] = OrderedDict()
        self._created: set[Path] = set()
        self._static: dict[tuple[str, int, int], dict[str, Any]] = {}
        self._second = -1
        # seconds from the top of the hour of start_time to t=0: s3 objects are cut on wall-clock hours
        self._offset = self._start.minute * 60 + self._start.second + self._start.microsecond / 1e6
        self._paths: dict[tuple[str, str, int], Path] = {}
        self._stamp = ""
        self.records_written = 0
        self.closed = False

    @classmethod
    def for_run(cls, scn: Any, out_dir: str | Path, all_services: bool) -> AccessLogWriter:
        """The subscriptions of a run: every service when ``all_services`` (``--access-logs``),
        else the scenario's ``access_logs``: the listed services and service networks, or every
        service when both lists are empty. Format options (gzip, sample, layout) come from the
        scenario's ``access_logs`` when it has one."""
        cfg = scn.access_logs
        opts: dict[str, Any] = {}
        if cfg is not None:
            opts = {"gzip": cfg.gzip, "sample": cfg.sample, "layout": cfg.layout}
        every = [s.name for s in scn.services]
        if all_services or cfg is None:
            return cls(scn, out_dir, services=every, **opts)
        if not cfg.enabled:
            return cls(scn, out_dir, **opts)
        if not cfg.services and not cfg.service_networks:
            return cls(scn, out_dir, services=every, **opts)
        return cls(scn, out_dir, services=cfg.services, service_networks=cfg.service_networks, **opts)

    # -- the hot path ----------------------------------------------------------------------------
    def write(self, sim: Any, req: Any, t: float, status: int, failure: str | None, resp_bytes: int) -> None:
        """One record for a request attempt that Lattice answered at ``t`` (simulated seconds)."""
        self._counter += 1
        route = req.route
        svc_sub = self.services.get(route.service)
        sn_sub = self.networks.get(route.service_network) if self.networks else None
        if svc_sub is None and sn_sub is None:
            return
        digest = hashlib.blake2b(self._seed + b":" + str(self._counter).encode(), digest_size=16).digest()
        if self._threshold < 2**64 and int.from_bytes(digest[:8], "big") >= self._threshold:
            return
        record = self.record(sim, req, t, status, failure, resp_bytes, _uuid4(digest))
        line = json.dumps(record, separators=(",", ":")) + "\n"
        t0 = req.t_entry
        if svc_sub is not None:
            self._handle(svc_sub, t0).write(line)
        if sn_sub is not None:
            self._handle(sn_sub, t0).write(line)
        self.records_written += 1

    def record(self, sim: Any, req: Any, t: float, status: int, failure: str | None, resp_bytes: int,
               request_id: str) -> dict[str, Any]:
        """The record as a dict (field order of ``FIELDS``)."""
        cs = req.client
        static = self._static_fields(sim, req)
        rec = dict(static)
        rec["startTime"] = self._time(req.t_entry)
        rec["duration"] = _ms(t - req.t_entry)
        srv = req.target
        tg = req.tg
        sent_to_target = srv is not None and failure != "TargetConnectionError"
        rec["requestToTargetDuration"] = _ms(req.t_target - req.t_entry) if sent_to_target else None
        rec["responseFromTargetDuration"] = 0 if srv is not None and failure is None else None
        rec["responseCode"] = status
        if static["grpcResponseCode"] is not None:
            rec["grpcResponseCode"] = _GRPC_CODES.get(status, _GRPC_UNKNOWN)
        rec["failureReason"] = failure or "-"
        if failure == "ClientAccessDenied":
            rec["authDeniedReason"] = req.route.auth_denied_reason
        if tg is not None:
            rec["targetGroupArn"] = tg.arn
            rec["destinationVpcId"] = tg.ctg.vpc_id or "-"
        if srv is not None and srv.ip and srv.ip != "-":
            rec["targetIpPort"] = f"{srv.ip}:{srv.port}"
        rec["sourceIpPort"] = f"{cs.cc.ip}:{32768 + self._counter % 28232}"  # Linux ephemeral range
        rec["bytesReceived"] = int(req.body)
        rec["bytesSent"] = int(resp_bytes)
        rec["requestId"] = request_id
        return rec

    def _static_fields(self, sim: Any, req: Any) -> dict[str, Any]:
        """What depends only on the client, the request class and the current route."""
        cs = req.client
        key = (cs.name, req.spec, sim.topo.version)
        static = self._static.get(key)
        if static is not None:
            return static
        route = req.route
        topo = sim.topo
        spec = cs.specs[req.spec]
        rc = cs.classes[req.spec]
        scheme, host, port, url_path = split_url(rc.url)
        path = rc.path if rc.path != "/" or url_path == "/" else url_path
        if rc.query:
            path += "?" + urlencode([(k, v) for k, vs in rc.query for v in vs])
        svc = topo.services[route.service]
        lst = svc.listeners_by_name.get(route.listener) if route.listener else None
        tls = lst is not None and lst.protocol in ("HTTPS", "TLS_PASSTHROUGH")
        grpc = spec.protocol == "gRPC"
        headers = {k.lower(): v for k, v in spec.headers.items()}
        default_port = 443 if scheme in ("https", "grpcs", "grpc", "tls") else 80
        static = {f: "-" for f in FIELDS}
        static.update({
            "requestMethod": "POST" if grpc else spec.method,
            "requestPath": path,
            "protocol": "HTTP/2" if spec.protocol in ("HTTP/2", "gRPC") else spec.protocol,
            "hostHeader": headers.get("host", host if port == default_port else f"{host}:{port}"),
            "userAgent": headers.get("user-agent", "-"),
            "grpcResponseCode": 0 if grpc else None,
            "authDeniedReason": None,
            "resolvedUser": route.resolved_user,
            **caller_fields(sim, cs, route),
            "serviceNetworkArn": topo.networks[route.service_network].arn if route.service_network else "-",
            "serviceArn": svc.arn,
            "tlsVersion": TLS_VERSION if tls else "-",
            "sslCipher": SSL_CIPHER if tls else "-",
            "serverNameIndication": host if tls else "-",
            "listenerId": lst.id if lst is not None else "-",
            "listenerType": lst.protocol if lst is not None else "-",
            "requestToTargetDuration": None,
            "responseFromTargetDuration": None,
        })
        if len(self._static) > 10_000:  # bounded: many topology versions x request classes
            self._static.clear()
        self._static[key] = static
        return static

    def _time(self, t: float) -> str:
        sec = int(t)
        if sec != self._second:
            self._second = sec
            self._stamp = (self._start + timedelta(seconds=sec)).strftime("%Y-%m-%dT%H:%M:%SZ")
        return self._stamp

    # -- files ---------------------------------------------------------------------------------------
    def path_for(self, sub: Subscription, t: float = 0.0) -> Path:
        """Where the records of ``sub`` for a request that started at ``t`` go."""
        if self.layout == "s3":
            when = self._start + timedelta(seconds=int(t))
            return self.out_dir / s3_key(sub.account_id, self.scn.region, sub.resource_id, when, gz=self.gzip)
        ext = ".jsonl.gz" if self.gzip else ".jsonl"
        folder = self.out_dir / "access_logs"
        if sub.kind == "service_network":
            folder = folder / "service-networks"
        return folder / f"{sub.name}{ext}"

    def _handle(self, sub: Subscription, t: float) -> IO[str]:
        key = (sub.kind, sub.name, int((self._offset + t) // 3600.0) if self.layout == "s3" else 0)
        path = self._paths.get(key)
        if path is None:
            path = self._paths[key] = self.path_for(sub, t)
        fh = self._handles.get(path)
        if fh is not None:
            self._handles.move_to_end(path)
            return fh
        if len(self._handles) >= MAX_OPEN_FILES:
            _, old = self._handles.popitem(last=False)
            old.close()
        fh = self._open(path, append=path in self._created)
        self._created.add(path)
        self._handles[path] = fh
        return fh

    def _open(self, path: Path, *, append: bool) -> IO[str]:
        path.parent.mkdir(parents=True, exist_ok=True)
        mode = "ab" if append else "wb"
        if self.gzip:
            # mtime=0: the same run writes byte-identical files; appending adds a gzip member.
            raw = gzip.GzipFile(filename=str(path), mode=mode, compresslevel=6, mtime=0)
            return io.TextIOWrapper(io.BufferedWriter(raw, 1 << 16), encoding="utf-8", newline="\n")
        return open(path, mode[0], encoding="utf-8", newline="\n", buffering=1 << 16)  # noqa: SIM115

    def paths(self) -> list[Path]:
        """Every file written so far, sorted."""
        return sorted(self._created)

    def close(self) -> None:
        """Flush and close every stream; subscribed flat-layout streams that saw no request get an
        empty file, so a subscription is always visible on disk."""
        if self.closed:
            return
        self.closed = True
        while self._handles:
            _, fh = self._handles.popitem(last=False)
            fh.close()
        if self.layout == "flat":
            for sub in [*self.services.values(), *self.networks.values()]:
                path = self.path_for(sub)
                if path not in self._created:
                    self._open(path, append=False).close()
                    self._created.add(path)

    def __enter__(self) -> AccessLogWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def caller_fields(sim: Any, cs: Any, route: Any) -> dict[str, Any]:
    """Who called, as the access log (and a trace's Lattice hop) says it: the signing principal
    when the request was signed, and the VPC it came from. For a downstream call, ``cs`` is the
    calling target (``latsim.engine.calls.CallerState``): the target group's principal and VPC."""
    principal = cs.cc.principal
    signed = principal is not None and route.resolved_user not in (None, "Anonymous")
    return {
        "callerPrincipal": principal.arn if signed else "-",
        "callerPrincipalOrgID": (principal.org_id or "-") if signed else "-",
        "callerPrincipalTags": dict(sorted(principal.tags.items())) if signed and principal.tags else "-",
        "sourceVpcArn": vpc_arn(sim.scn, cs.cc.vpc),
        "sourceVpcId": cs.cc.vpc_id,
    }


def _lookup(table: dict[str, Any], name: str, where: str, what: str) -> Any:
    obj = table.get(name)
    if obj is None:
        from latsim.errors import suggest
        raise LatsimError(f"access logs: no {what} named {name!r}", location=Location(path=where),
                          hint=suggest(name, table) or f"known: {', '.join(sorted(table)) or 'none'}")
    return obj


def _uuid4(digest: bytes) -> str:
    """A UUID-shaped (version 4, RFC 4122 variant) string from 16 bytes: same as
    ``str(uuid.UUID(bytes=digest, version=4))``, without the object."""
    b = bytearray(digest)
    b[6] = (b[6] & 0x0F) | 0x40
    b[8] = (b[8] & 0x3F) | 0x80
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _ms(seconds: float) -> int:
    return max(0, int(round(seconds * 1000.0)))


# -- reading -------------------------------------------------------------------------------------------
_LOG_SUFFIXES = (".jsonl", ".jsonl.gz", ".json", ".json.gz", ".log", ".log.gz")


def _log_files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise LatsimError(f"no access logs at {root}", location=Location(str(root)))
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            if name.endswith(_LOG_SUFFIXES) and not name.startswith("."):
                found.append(Path(dirpath) / name)
    return found


def read_access_logs(path: str | Path) -> Iterator[dict[str, Any]]:
    """Yield the records of one access-log file (``.jsonl``/``.json``, optionally ``.gz``) or of
    every such file under a directory (sorted by path), lazily, one dict per line, in file order.
    A line that is not a JSON object raises a ``LatsimError`` located at file:line."""
    for file in _log_files(Path(path)):
        fh: IO[str]
        if file.name.endswith(".gz"):
            fh = gzip.open(file, "rt", encoding="utf-8")
        else:
            fh = open(file, encoding="utf-8")  # noqa: SIM115
        with fh:
            for lineno, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise LatsimError(f"not a JSON access-log record: {exc.msg}",
                                      location=Location(str(file), lineno, exc.colno)) from None
                if not isinstance(rec, dict):
                    raise LatsimError("an access-log record is a JSON object",
                                      location=Location(str(file), lineno, 1))
                yield rec
