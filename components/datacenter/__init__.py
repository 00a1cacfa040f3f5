"""AiDatacenter: the whole environment composed from the spec, one component per concept.

Pure planners live in the modules of this package; the Pulumi resources in `resources.py`."""
