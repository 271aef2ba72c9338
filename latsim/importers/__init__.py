"""Importers: CloudFormation, Terraform, AWS (live or saved JSON) and Kubernetes Gateway API
inputs become the same model. Each produces an ``ImportResult`` (``latsim.importers.common``)."""
