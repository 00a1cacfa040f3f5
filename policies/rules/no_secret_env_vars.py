from policies.rule import Rule, containers, get, is_kubernetes_workload, items, pod_specs


def check(rtype, props, ctx):
    """Secrets reach containers as files: an environment variable leaks through
    /proc/<pid>/environ, crash dumps, `kubectl describe` and child processes."""
    if not is_kubernetes_workload(rtype):
        return
    for path, spec in pod_specs(props):
        for c in containers(spec):
            for e in items(c.get("env")):
                ref = get(e, "valueFrom.secretKeyRef")
                if ref is not None:
                    yield (f"container {c.get('name')} at {path}: env {get(e, 'name')} reads Secret "
                           f"{get(ref, 'name')}; mount it as a file")
            for src in items(c.get("envFrom")):
                if get(src, "secretRef") is not None:
                    yield (f"container {c.get('name')} at {path}: envFrom loads Secret {get(src, 'secretRef.name')} "
                           "into the environment; mount it as a file")


RULE = Rule(
    name="no-secret-env-vars",
    description="Containers read Secrets as mounted files, never as environment variables (env valueFrom "
                "secretKeyRef, envFrom secretRef).",
    severity="high", enforcement="mandatory",
    remediation="Mount the Secret as a volume (readOnly, defaultMode 0440) and point the program at the file "
                "(e.g. HF_TOKEN_PATH for a Hugging Face token); aidc's model servers do this.",
    check=check,
)
