from policies.rule import Rule, containers, is_kubernetes_workload, pod_specs


def problem(image: str) -> str | None:
    if "@sha256:" in image:
        return None
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return "has no tag"
    tag = last.rsplit(":", 1)[1]
    if tag in ("latest", "stable", "main", "master", "nightly", "edge"):
        return f"uses the floating tag {tag!r}"
    return None


def check(rtype, props, ctx):
    if not is_kubernetes_workload(rtype):
        return
    for path, spec in pod_specs(props):
        for c in containers(spec):
            image = str(c.get("image") or "")
            why = problem(image) if image else "has no image"
            if why:
                yield f"container {c.get('name')} at {path}: image {image!r} {why}"


RULE = Rule(
    name="images-pinned",
    description="Container images carry an exact tag or digest (no 'latest', no untagged images).",
    severity="high", enforcement="mandatory",
    remediation="Use the image with its exact tag from the catalog (components/catalog/recipe.yaml images) "
                "or pin it by digest (@sha256:...).",
    check=check,
)
