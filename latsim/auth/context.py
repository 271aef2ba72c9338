"""The request context: who calls, what, where from -- as the condition keys Lattice sets.

Keys are stored lower-cased because IAM matches condition-key *names* case-insensitively
(that includes the header name in ``vpc-lattice-svcs:RequestHeader/<name>``); values keep
their case. A key that does not apply to a request is absent, never empty: principal keys for
anonymous callers (whose ``aws:PrincipalType`` is ``Anonymous``), ``RequestQueryString/*`` for gRPC, HTTP keys for ``Connect``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType

from latsim.errors import LatsimError

INVOKE = "vpc-lattice-svcs:Invoke"
CONNECT = "vpc-lattice-svcs:Connect"
ACTIONS = (INVOKE, CONNECT)

# Lattice's service-specific keys (lower-cased).
K_PORT = "vpc-lattice-svcs:port"
K_METHOD = "vpc-lattice-svcs:requestmethod"
K_PATH = "vpc-lattice-svcs:requestpath"
K_HEADER = "vpc-lattice-svcs:requestheader/"
K_QUERY = "vpc-lattice-svcs:requestquerystring/"
K_SERVICE_ARN = "vpc-lattice-svcs:servicearn"
K_SN_ARN = "vpc-lattice-svcs:servicenetworkarn"
K_SOURCE_VPC = "vpc-lattice-svcs:sourcevpc"
K_SOURCE_VPC_OWNER = "vpc-lattice-svcs:sourcevpcowneraccount"

# Global keys latsim fills in (lower-cased).
K_PRINCIPAL_TYPE = "aws:principaltype"
K_PRINCIPAL_ARN = "aws:principalarn"
K_PRINCIPAL_ACCOUNT = "aws:principalaccount"
K_PRINCIPAL_ORG_ID = "aws:principalorgid"
K_PRINCIPAL_ORG_PATHS = "aws:principalorgpaths"
K_PRINCIPAL_TAG = "aws:principaltag/"
K_RESOURCE_TAG = "aws:resourcetag/"
K_SOURCE_IP = "aws:sourceip"
K_USERNAME = "aws:username"
K_CURRENT_TIME = "aws:currenttime"
K_EPOCH_TIME = "aws:epochtime"
K_SECURE_TRANSPORT = "aws:securetransport"

#: Condition keys Lattice documents, in their canonical spelling (for "did you mean").
LATTICE_KEYS = (
    "vpc-lattice-svcs:Port", "vpc-lattice-svcs:RequestMethod", "vpc-lattice-svcs:RequestPath",
    "vpc-lattice-svcs:RequestHeader/", "vpc-lattice-svcs:RequestQueryString/",
    "vpc-lattice-svcs:ServiceArn", "vpc-lattice-svcs:ServiceNetworkArn",
    "vpc-lattice-svcs:SourceVpc", "vpc-lattice-svcs:SourceVpcOwnerAccount",
)
#: Global keys that make sense for a Lattice request (others are accepted but never set).
GLOBAL_KEYS = (
    "aws:PrincipalType", "aws:PrincipalArn", "aws:PrincipalAccount", "aws:PrincipalOrgID",
    "aws:PrincipalOrgPaths", "aws:PrincipalTag/", "aws:ResourceTag/", "aws:SourceIp",
    "aws:username", "aws:userid", "aws:CurrentTime", "aws:EpochTime", "aws:SecureTransport",
    "aws:PrincipalIsAWSService", "aws:PrincipalServiceName", "aws:ResourceAccount",
    "aws:ResourceOrgID", "aws:ResourceOrgPaths", "aws:RequestTag/", "aws:TagKeys",
    "aws:SourceVpc", "aws:SourceVpce", "aws:VpcSourceIp", "aws:SourceAccount", "aws:SourceArn",
    "aws:SourceOrgID", "aws:CalledVia", "aws:ViaAWSService", "aws:MultiFactorAuthPresent",
    "aws:TokenIssueTime", "aws:RequestedRegion", "aws:UserAgent", "aws:Referer",
)

_ARN_RE = re.compile(r"^arn:(?P<partition>aws[a-z-]*):(?P<service>iam|sts)::(?P<account>\d{12}):"
                     r"(?P<resource>.+)$")
_ACCOUNT_RE = re.compile(r"^\d{12}$")

ContextValue = str | tuple[str, ...]


@dataclass(frozen=True)
class Principal:
    """A signed caller: an IAM user, role (session), federated user or account root.

    ``account`` defaults to the account in the ARN. A plain 12-digit id stands for the account
    root. A role ARN (``arn:aws:iam::…:role/name``) stands for a session of that role, since
    only sessions can sign requests: its ``aws:PrincipalType`` is ``AssumedRole``.
    """

    arn: str
    account: str | None = None
    org_id: str | None = None
    org_paths: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    _kind: str = field(init=False, repr=False, compare=False, default="Unknown")
    _username: str | None = field(init=False, repr=False, compare=False, default=None)
    _role_arn: str | None = field(init=False, repr=False, compare=False, default=None)

    def __post_init__(self) -> None:
        arn = self.arn
        if _ACCOUNT_RE.match(arn):
            arn = f"arn:aws:iam::{arn}:root"
            object.__setattr__(self, "arn", arn)
        m = _ARN_RE.match(arn)
        kind, name, role = "Unknown", None, None
        if m:
            res = m["resource"]
            if m["service"] == "iam" and res == "root":
                kind = "Account"
            elif m["service"] == "iam" and res.startswith("user/"):
                kind, name = "User", res.rsplit("/", 1)[-1]
            elif m["service"] == "iam" and res.startswith("role/"):
                kind, role = "AssumedRole", arn
            elif m["service"] == "sts" and res.startswith("assumed-role/") and res.count("/") >= 2:
                kind = "AssumedRole"
                role = f"arn:{m['partition']}:iam::{m['account']}:role/{res.split('/')[1]}"
            elif m["service"] == "sts" and res.startswith("federated-user/"):
                kind = "FederatedUser"
        if kind == "Unknown":
            raise LatsimError(
                f"principal {self.arn!r} is not an IAM user, role, assumed-role, federated-user "
                "or account ARN",
                hint="e.g. arn:aws:iam::111122223333:role/rates-client or a 12-digit account id")
        account = self.account or (m["account"] if m else None)
        object.__setattr__(self, "account", account)
        object.__setattr__(self, "org_paths", tuple(self.org_paths))
        object.__setattr__(self, "tags", MappingProxyType(dict(self.tags)))
        object.__setattr__(self, "_kind", kind)
        object.__setattr__(self, "_username", name)
        object.__setattr__(self, "_role_arn", role)

    def __hash__(self) -> int:
        return hash((self.arn, self.account, self.org_id, self.org_paths,
                     tuple(sorted(self.tags.items()))))

    @property
    def principal_type(self) -> str:
        """``aws:PrincipalType``: Account, User, AssumedRole or FederatedUser."""
        return self._kind

    @property
    def role_arn(self) -> str | None:
        """The IAM role ARN behind a role session (path unknown for assumed-role ARNs)."""
        return self._role_arn

    @property
    def principal_arn(self) -> str:
        """``aws:PrincipalArn``: the role ARN for role sessions, else the ARN itself."""
        return self.role_arn or self.arn

    @property
    def username(self) -> str | None:
        return self._username


@dataclass(frozen=True, slots=True)
class RequestContext:
    """Everything an auth policy can look at for one request.

    ``values`` maps lower-cased condition keys to a string or, for multi-valued keys, a tuple of
    strings; treat it as read-only.
    """

    action: str
    resource: str
    principal: Principal | None
    values: Mapping[str, ContextValue]

    @property
    def anonymous(self) -> bool:
        return self.principal is None

    @property
    def who(self) -> str:
        """The caller as AWS writes it in a 403 body."""
        return "anonymous" if self.principal is None else self.principal.arn

    def get(self, key: str) -> ContextValue | None:
        """A condition key's value (key name matched case-insensitively), or None if absent."""
        return self.values.get(key.lower())

    def __getitem__(self, key: str) -> ContextValue:
        return self.values[key.lower()]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self.values

    def project(self, keys: Iterable[str]) -> tuple[ContextValue | None, ...]:
        """The values of ``keys`` (e.g. a policy's ``referenced_keys``), for a cache key."""
        get = self.values.get
        return tuple(get(k.lower()) for k in keys)


def invoke_resource(service_arn: str, path: str | None) -> str:
    """``<service ARN>/<path without its leading slash>``; ``/`` gives a trailing slash."""
    p = (path or "/").split("?", 1)[0]
    if p.startswith("/"):
        p = p[1:]
    return f"{service_arn}/{p}"


def build_context(
    *,
    service_arn: str,
    action: str = INVOKE,
    resource: str | None = None,
    principal: Principal | None = None,
    service_network_arn: str | None = None,
    service_tags: Mapping[str, str] | None = None,
    source_vpc: str | None = None,
    source_vpc_owner: str | None = None,
    source_ip: str | None = None,
    port: int | None = None,
    method: str | None = None,
    path: str | None = None,
    headers: Mapping[str, str | Sequence[str]] | None = None,
    query: Mapping[str, str | Sequence[str]] | None = None,
    grpc: bool = False,
    now: datetime | float | None = None,
    secure_transport: bool | None = None,
) -> RequestContext:
    """Build the request context Lattice would evaluate for one request.

    ``resource`` defaults to the service ARN for ``Connect`` and to
    ``<service ARN>/<path without leading slash>`` for ``Invoke``. For gRPC the method is
    always ``POST`` and there are no query-string keys. ``Connect`` (TCP) requests carry no
    HTTP keys. ``now`` (a datetime or epoch seconds) sets ``aws:CurrentTime``/``aws:EpochTime``.
    """
    if action not in ACTIONS:
        raise LatsimError(f"unknown Lattice action {action!r}", allowed=" | ".join(ACTIONS))
    http = action == INVOKE
    if resource is None:
        resource = invoke_resource(service_arn, path) if http else service_arn
    v: dict[str, ContextValue] = {K_SERVICE_ARN: service_arn}
    if service_network_arn:
        v[K_SN_ARN] = service_network_arn
    if port is not None:
        v[K_PORT] = str(int(port))
    if source_vpc:
        v[K_SOURCE_VPC] = source_vpc
    if source_vpc_owner:
        v[K_SOURCE_VPC_OWNER] = source_vpc_owner
    if source_ip:
        v[K_SOURCE_IP] = source_ip
    if secure_transport is not None:
        v[K_SECURE_TRANSPORT] = "true" if secure_transport else "false"
    if now is not None:
        ts = now.timestamp() if isinstance(now, datetime) else float(now)
        v[K_EPOCH_TIME] = str(int(ts))
        v[K_CURRENT_TIME] = datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for k, val in (service_tags or {}).items():
        v[K_RESOURCE_TAG + k.lower()] = str(val)
    if http:
        v[K_METHOD] = "POST" if grpc else (method or "GET").upper()
        v[K_PATH] = (path or "/").split("?", 1)[0]
        for name, hval in (headers or {}).items():
            key = K_HEADER + name.lower()
            text = hval if isinstance(hval, str) else ",".join(hval)
            prev = v.get(key)
            v[key] = f"{prev},{text}" if isinstance(prev, str) else text
        if not grpc:
            for qk, qv in (query or {}).items():
                key = K_QUERY + qk.lower()
                vals = (qv,) if isinstance(qv, str) else tuple(str(x) for x in qv)
                prev = v.get(key)
                vals = prev + vals if isinstance(prev, tuple) else vals
                if vals:
                    v[key] = vals
    if principal is None:
        v[K_PRINCIPAL_TYPE] = "Anonymous"
    else:
        _principal_keys(principal, v)
    return RequestContext(action=action, resource=resource, principal=principal, values=v)


def _principal_keys(p: Principal, v: dict[str, ContextValue]) -> None:
    v[K_PRINCIPAL_TYPE] = p.principal_type
    v[K_PRINCIPAL_ARN] = p.principal_arn
    if p.account:
        v[K_PRINCIPAL_ACCOUNT] = p.account
    if p.org_id:
        v[K_PRINCIPAL_ORG_ID] = p.org_id
    if p.org_paths:
        v[K_PRINCIPAL_ORG_PATHS] = tuple(p.org_paths)
    if p.username:
        v[K_USERNAME] = p.username
    for k, val in p.tags.items():
        v[K_PRINCIPAL_TAG + k.lower()] = str(val)
