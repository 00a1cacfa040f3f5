"""Observability: kube-prometheus-stack (Prometheus, Alertmanager, Grafana, node-exporter,
kube-state-metrics) pinned from the catalog, the DCGM exporter scraped, GPU and serving
alert rules, and the GPU, training and inference dashboards.

Pure planners live in the modules of this package; the Pulumi resources in `resources.py`."""
