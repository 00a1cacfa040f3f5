"""TrainingPlatform: the job operators (pinned catalog charts), the Kueue objects generated from
the GPU pools and teams, and each team's guarded namespace. Every custom resource depends on
the release that installs its CRD; every release uses the cluster's Kubernetes provider.

Pure planners live in the modules of this package; the Pulumi resources in `resources.py`."""
