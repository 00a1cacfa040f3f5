"""SharedStorage: FSx for Lustre sized from the stack's requirement, S3 buckets for
datasets, checkpoints and models, the CSI drivers, and the claims namespaces mount.
On an existing cluster (or with existing storage) only the Kubernetes volumes are made.

Pure planners live in the modules of this package; the Pulumi resources in `resources.py`."""
