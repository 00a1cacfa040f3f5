"""Cluster: the EKS control plane (or an existing cluster) and the one Kubernetes provider
that every Kubernetes resource of the stack uses.

Pure planners live in the modules of this package; the Pulumi resources in `resources.py`."""
