from policies.rule import Rule, get, items


def check(_type, props, ctx):
    configs = items(props.get("encryptionConfig")) or ([props["encryptionConfig"]] if get(props, "encryptionConfig") else [])
    for cfg in configs:
        if "secrets" in [str(r) for r in items(get(cfg, "resources"))] and get(cfg, "provider.keyArn"):
            return
    yield "Kubernetes secrets are not envelope-encrypted with a KMS key (encryptionConfig with resources [secrets])"


RULE = Rule(
    name="eks-secrets-encrypted",
    description="EKS envelope-encrypts Kubernetes secrets with a KMS key.",
    severity="high", enforcement="mandatory",
    remediation="Give the cluster encryptionConfig {provider: {keyArn: <KMS key>}, resources: [secrets]} "
                "(aidc's Cluster component does this; check a hand-written cluster).",
    check=check, types=("aws:eks/cluster:Cluster",),
)
