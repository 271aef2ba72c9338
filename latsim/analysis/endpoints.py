"""Endpoints and requests as the static analyses see them: a service's listener as a client calls
it (``Endpoint``), and the distinct requests of a client's mix (``client_requests``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from latsim.compile import RequestClass, Topology
from latsim.model.client import Client, split_url

LISTENER_SCHEME = {"HTTP": "http", "HTTPS": "https", "TLS_PASSTHROUGH": "tls"}


@dataclass(frozen=True)
class Endpoint:
    """A service's listener as a client calls it."""

    service: str
    listener: str
    port: int
    scheme: str
    host: str

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    @property
    def label(self) -> str:
        return f"{self.service}/{self.listener}"


def service_host(topo: Topology, service: str) -> str:
    svc = topo.services[service]
    return svc.model.custom_domain.lower().rstrip(".") if svc.model.custom_domain else svc.dns_name


def all_endpoints(topo: Topology, services: Iterable[str] | None = None) -> list[Endpoint]:
    """Every listener of every service (or of ``services``), in scenario order."""
    out = []
    for name in services if services is not None else topo.services:
        svc = topo.services[name]
        host = service_host(topo, name)
        for lst in svc.listeners_by_name.values():
            out.append(Endpoint(name, lst.name, lst.port, LISTENER_SCHEME.get(lst.protocol, "https"), host))
    return out


def client_requests(client: Client, *, path: str | None = None, method: str | None = None) -> tuple[RequestClass, ...]:
    """The distinct requests of a client's mix, without their URL (``url=""``), in mix order;
    ``path``/``method`` replace the mix's."""
    seen: dict[RequestClass, None] = {}
    for spec in client.requests:
        rc = RequestClass.of(client, spec)
        _, _, _, url_path = split_url(rc.url)
        p = rc.path if rc.path != "/" or url_path == "/" else url_path
        rc = RequestClass("", method or rc.method, path or p, rc.headers, rc.query, rc.protocol)
        seen.setdefault(rc, None)
    if not seen:
        seen[RequestClass("", method or "GET", path or "/")] = None
    return tuple(seen)


def at(rc: RequestClass, url: str) -> RequestClass:
    """A URL-less request class sent to ``url``."""
    return RequestClass(url, rc.method, rc.path, rc.headers, rc.query, rc.protocol)


__all__ = ["LISTENER_SCHEME", "Endpoint", "all_endpoints", "at", "client_requests", "service_host"]
