"""Model serving: the operators it needs (KEDA, External Secrets, KServe, LeaderWorkerSet),
installed only when a service uses them, and one `InferenceService` component per entry of
`aidc:inference.services`.

Pure planners live in the modules of this package; the Pulumi resources in `resources.py`."""
