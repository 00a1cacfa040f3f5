"""Network: the VPC, its subnets per zone, NAT by strategy, endpoints and flow logs.

Pure planners live in the modules of this package; the Pulumi resources in `resources.py`."""
