"""NvidiaStack: the software that makes GPU nodes schedulable. Node Feature Discovery, the
NVIDIA GPU Operator, the AWS EFA device plugin on EFA nodes and, on-prem, the NVIDIA Network
Operator; each a pinned catalog chart in its own namespace.

Pure planners live in the modules of this package; the Pulumi resources in `resources.py`."""
