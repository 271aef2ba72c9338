"""Gateway API import as a cluster applies it: pods per replica of the workloads a Service selects,
and files applied in order (a later object of the same name wins, as with kubectl apply)."""

from __future__ import annotations

from pathlib import Path

import pytest

from latsim.errors import ScenarioError
from latsim.importers.gateway_api import import_gateway_api

BASE = """\
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: shop, namespace: infra}
spec:
  gatewayClassName: amazon-vpc-lattice
  listeners: [{name: http, protocol: HTTP, port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec:
  selector: {app: api}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: loose, namespace: shop}
spec:
  ports: [{port: 80}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  replicas: 3
  selector: {matchLabels: {app: api}}
  template: {metadata: {labels: {app: api, tier: web}}}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: api-stateful, namespace: shop}
spec:
  replicas: 2
  template: {metadata: {labels: {app: api}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api-elsewhere, namespace: other}
spec:
  replicas: 7
  template: {metadata: {labels: {app: api}}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: api, namespace: shop}
spec:
  parentRefs: [{name: shop, namespace: infra}]
  rules:
    - backendRefs: [{name: api, port: 80}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: loose, namespace: shop}
spec:
  parentRefs: [{name: shop, namespace: infra}]
  rules:
    - backendRefs: [{name: loose, port: 80}]
"""

CANARY = """\
apiVersion: v1
kind: Service
metadata: {name: api-v2, namespace: shop}
spec:
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: api, namespace: shop}
spec:
  parentRefs: [{name: shop, namespace: infra}]
  rules:
    - backendRefs: [{name: api, port: 80, weight: 90}, {name: api-v2, port: 80, weight: 10}]
"""


def tg_of(data: dict, service: str) -> dict:
    svc = next(s for s in data["services"] if s["name"] == service)
    (fwd, *rest) = svc["listeners"][0]["rules"][0]["action"]["forward"]
    return next(t for t in data["target_groups"] if t["name"] == fwd["target_group"])


def test_replicas_of_the_selected_deployments_and_statefulsets_are_the_pods(tmp_path: Path) -> None:
    f = tmp_path / "base.yaml"
    f.write_text(BASE)
    data = import_gateway_api([str(f)], pods_per_service=4).data
    # 3 (Deployment) + 2 (StatefulSet) in the Service's namespace; the other namespace's 7 do not count
    assert len(tg_of(data, "api-shop")["targets"]) == 5
    # a Service without a selector keeps --pods-per-service
    assert len(tg_of(data, "loose-shop")["targets"]) == 4


def test_zero_replicas_leave_the_target_group_empty_and_a_bad_count_is_warned(tmp_path: Path) -> None:
    f = tmp_path / "base.yaml"
    f.write_text(BASE.replace("replicas: 3", "replicas: 0").replace("replicas: 2", "replicas: many"))
    res = import_gateway_api([str(f)])
    # replicas: many -> 1 (with a located warning); replicas: 0 -> none
    assert len(tg_of(res.data, "api-shop")["targets"]) == 1
    (w,) = [w for w in res.warnings if "replicas must be" in w.message]
    assert w.location.file == str(f) and w.location.line == 33  # the StatefulSet's replicas


def test_a_route_applied_again_in_a_later_file_wins_with_a_note(tmp_path: Path) -> None:
    base, canary = tmp_path / "base.yaml", tmp_path / "canary.yaml"
    base.write_text(BASE)
    canary.write_text(CANARY)
    res = import_gateway_api([str(base), str(canary)])
    svc = next(s for s in res.data["services"] if s["name"] == "api-shop")
    weights = [f["weight"] for f in svc["listeners"][0]["rules"][0]["action"]["forward"]]
    assert weights == [90, 10]
    (note,) = [w for w in res.warnings if w.code == "reapplied"]
    assert note.severity == "info" and note.location.file == str(canary) and note.location.line == 9
    assert f"(first at {base}:45:" in note.message
    # the other order: the base file's route wins
    res = import_gateway_api([str(canary), str(base)])
    svc = next(s for s in res.data["services"] if s["name"] == "api-shop")
    assert len(svc["listeners"][0]["rules"][0]["action"]["forward"]) == 1


def test_a_duplicate_key_inside_one_document_stays_an_error_as_in_kubectl(tmp_path: Path) -> None:
    f = tmp_path / "dup.yaml"
    f.write_text(BASE.replace("metadata: {name: loose, namespace: shop}\nspec:\n  ports",
                              "metadata: {name: loose, namespace: shop}\nspec:\n  ports: []\n  ports", 1))
    with pytest.raises(ScenarioError) as exc:
        import_gateway_api([str(f)])
    assert any(p.location.file == str(f) and "ports" in p.format() for p in exc.value.all_problems)
