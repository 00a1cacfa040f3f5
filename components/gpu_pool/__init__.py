"""GpuNodePool: one pool of GPU nodes of one instance type, on the capacity the team holds.

Pure planners live in the modules of this package; the Pulumi resources in `resources.py`."""
