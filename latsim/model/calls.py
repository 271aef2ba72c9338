"""Call graphs: the work a target group's code does for one request (``calls:``).

A step is exactly one of

* ``work``: the code's own time (a duration distribution), holding the worker;
* ``call``: a downstream request to another Lattice service (a URL), a full Lattice request
  from the target group's VPC with its principal, with its own timeout and retries;
* ``parallel``: branches (each one step) started together; the step ends when all have ended.

Any step may carry ``when`` (a rule-style match on the request being served: method, path,
headers) and ``probability`` (the step happens with that probability). Steps run in order on
the worker that serves the request, which stays busy until the last one ends.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from latsim.distributions import DistributionField, SizeDistributionField
from latsim.model.base import Duration, Model
from latsim.model.client import RetryPolicy, split_url
from latsim.model.service import Match

STEP_KINDS = ("work", "call", "parallel")


class CallStep(Model):
    """One step of a target group's ``calls:``."""

    name: str | None = Field(default=None, description="a label for traces and the edge table")
    when: Match | None = Field(default=None, description="only for requests that match (method, path, headers)")
    probability: float = Field(default=1.0, ge=0, le=1, description="the step happens with this probability")
    work: DistributionField | None = Field(default=None, description="the code's own time, e.g. {constant: 4ms}")
    call: str | None = Field(default=None, description="a downstream request: the URL of a Lattice service")
    method: str = Field(default="GET", min_length=1, max_length=16)
    path: str | None = Field(default=None, pattern=r"^/", description="overrides the path of the call's URL")
    headers: dict[str, str] = Field(default_factory=dict)
    query: dict[str, str | list[str]] = Field(default_factory=dict)
    protocol: Literal["HTTP/1.1", "HTTP/2", "gRPC"] = "HTTP/1.1"
    body: SizeDistributionField = Field(default=0, validate_default=True)
    response: SizeDistributionField = Field(default="1KB", validate_default=True)
    timeout: Duration = Field(default=10.0, gt=0, description="per attempt, as a client's timeout")
    retries: RetryPolicy = Field(default_factory=RetryPolicy)
    on_error: Literal["fail", "ignore"] = Field(
        default="fail", description="fail: the request being served answers 500 once the failed call returns; "
        "ignore: carry on")
    parallel: list[CallStep] | None = Field(default=None, description="branches started together; waits for all")

    @field_validator("parallel")
    @classmethod
    def _branches(cls, value: list[CallStep] | None) -> list[CallStep] | None:
        if value is not None and not value:
            raise ValueError("parallel needs at least one branch")
        return value

    @field_validator("call")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None:
            return value
        scheme, host, _, _ = split_url(value)
        if scheme not in ("http", "https", "grpc", "grpcs"):
            raise ValueError(f"call url scheme '{scheme}' is not one of http, https, grpc, grpcs")
        if not host:
            raise ValueError("a call needs a URL with a host name, e.g. https://payments.shop.internal/charge")
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> CallStep:
        given = [k for k in STEP_KINDS if getattr(self, k) is not None]
        if len(given) != 1:
            found = f" (found {', '.join(given)})" if given else ""
            raise ValueError(f"a step needs exactly one of work, call or parallel{found}")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in STEP_KINDS if getattr(self, k) is not None)

    @property
    def label(self) -> str:
        """How traces and tables name the step."""
        if self.name:
            return self.name
        if self.call is not None:
            _, host, _, path = split_url(self.call)
            return f"{self.method} {host}{self.path or path}"
        return self.kind


def walk_steps(steps: list[CallStep], prefix: tuple[int | str, ...] = ()) -> list[tuple[tuple[int | str, ...],
                                                                                        CallStep]]:
    """Every step with its key path below ``calls`` (``(2, 'parallel', 0)``), depth first."""
    out: list[tuple[tuple[int | str, ...], CallStep]] = []
    for i, step in enumerate(steps):
        keys = prefix + (i,)
        out.append((keys, step))
        if step.parallel is not None:
            out += walk_steps(step.parallel, keys + ("parallel",))
    return out


CallStep.model_rebuild()
