"""What the simulated traffic would cost in Lattice, extrapolated to a month (docs/lattice.md §10).

Three charges per service: the service-hour (every hour a service is provisioned, traffic or
not), data processing (request + response bytes through the service) and requests beyond the
300,000 free per hour per service. The simulated window after warm-up stands for a typical hour:
its hourly request and byte rates are charged for ``HOURS_PER_MONTH`` hours (730, as in AWS's
own examples). Prices are the dated us-east-1 table below; pass ``prices`` to override any of them
(another Region, a negotiated rate, a later price change).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

PRICES_AS_OF = "2026-11-25"  # the date docs/lattice.md §10's prices were transcribed from aws.amazon.com/vpc/lattice/pricing
REGION = "us-east-1"
HOURS_PER_MONTH = 730.0
BYTES_PER_GB = 1024**3  # AWS bills data in GB of 2^30 bytes

PRICES: dict[str, float] = {
    "service_hour": 0.025,            # USD per service-hour
    "gb_processed": 0.025,            # USD per GB of request + response bytes
    "per_million_requests": 0.10,     # USD per 1M HTTP/HTTPS requests beyond the free tier
    "free_requests_per_hour": 300_000,  # per service, deducted hourly
}

ASSUMPTIONS = (
    "the simulated window after warm-up is a typical hour: its hourly rates hold for the whole month",
    f"{HOURS_PER_MONTH:g} hours per month; every service is provisioned all month",
    "data processed = request + response body bytes (headers are not modelled); 1 GB = 2^30 bytes",
    "free tier: 300,000 requests per hour per service, applied to the average hourly rate "
    "(a peakier hour-by-hour profile would cost more)",
    "TLS_PASSTHROUGH listeners are billed per connection at an unconfirmed rate: not included",
    "access logs (CloudWatch vended logs), PrivateLink endpoints and data transfer are not included",
)


def estimate_cost(scn: Any, summary: Mapping[str, Any], prices: Mapping[str, float] | None = None) -> dict[str, Any]:
    """Monthly Lattice cost of the run's traffic: per service and in total (USD).

    ``summary`` is a run summary (``Result.summary``): ``simulated_s`` (else ``duration_s``),
    ``warmup_s`` and, per service, ``TotalRequestCount``, ``TotalReceivedBytes`` and
    ``TotalSentBytes``. Every service of the scenario is charged its service-hours, with or
    without traffic."""
    p = dict(PRICES)
    if prices:
        unknown = set(prices) - set(PRICES)
        if unknown:
            raise ValueError(f"unknown price keys {sorted(unknown)}; known: {sorted(PRICES)}")
        p.update({k: float(v) for k, v in prices.items()})
    span = float(summary.get("simulated_s") or summary.get("duration_s") or 0.0)  # an interrupted run is shorter
    hours = max(span - float(summary.get("warmup_s", 0.0)), 1e-9) / 3600.0
    measured = summary.get("services", {})
    names = sorted({s.name for s in scn.services} | set(measured)) if scn is not None else sorted(measured)
    tcp_only = {s.name for s in scn.services if s.listeners and all(lst.protocol == "TLS_PASSTHROUGH"
                                                                     for lst in s.listeners)} if scn is not None else set()
    services: dict[str, Any] = {}
    total = {"service_hours_usd": 0.0, "data_processing_usd": 0.0, "requests_usd": 0.0, "monthly_usd": 0.0}
    for name in names:
        d = measured.get(name, {})
        requests = float(d.get("TotalRequestCount", 0))
        nbytes = float(d.get("TotalReceivedBytes", 0)) + float(d.get("TotalSentBytes", 0))
        per_hour = requests / hours
        billable_per_hour = 0.0 if name in tcp_only else max(0.0, per_hour - p["free_requests_per_hour"])
        gb_month = nbytes / hours * HOURS_PER_MONTH / BYTES_PER_GB
        billable_month = billable_per_hour * HOURS_PER_MONTH
        row: dict[str, Any] = {
            "requests_per_hour": round(per_hour, 3),
            "requests_per_month": round(per_hour * HOURS_PER_MONTH),
            "billable_requests_per_month": round(billable_month),
            "gb_per_month": round(gb_month, 6),
            "service_hours_usd": HOURS_PER_MONTH * p["service_hour"],
            "data_processing_usd": gb_month * p["gb_processed"],
            "requests_usd": billable_month / 1e6 * p["per_million_requests"],
        }
        row["monthly_usd"] = row["service_hours_usd"] + row["data_processing_usd"] + row["requests_usd"]
        for key in total:
            total[key] += row[key]
        for key in ("service_hours_usd", "data_processing_usd", "requests_usd", "monthly_usd"):
            row[key] = round(row[key], 4)
        if name in tcp_only:
            row["note"] = "TLS_PASSTHROUGH only: per-connection charge not included"
        services[name] = row
    return {
        "prices_as_of": PRICES_AS_OF,
        "region": REGION,
        "currency": "USD",
        "hours_per_month": HOURS_PER_MONTH,
        "monthly_usd": round(total["monthly_usd"], 4),
        "totals": {k: round(v, 4) for k, v in total.items()},
        "prices": p,
        "services": services,
        "assumptions": list(ASSUMPTIONS),
    }
