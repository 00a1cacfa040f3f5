"""Karpenter: the controller that launches elastic GPU nodes. Pinned chart, its own IAM role
through Pod Identity, and an SQS queue fed by EventBridge so it drains nodes AWS is about to
take back (spot reclaim, scheduled maintenance) before they vanish.

Pure planners live in the modules of this package; the Pulumi resources in `resources.py`."""
