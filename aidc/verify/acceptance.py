"""`--run-acceptance`: run the NCCL all-reduce acceptance job on a pool, read its bus bandwidth,
compare it with the catalog's floor for the instance type, and delete what was created —
always, whatever happened in between. Nothing else in the cluster is touched."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

import yaml

from aidc.errors import Problem, UserError

from . import nccl
from .kube import NOT_FOUND, UNREACHABLE, Kube, KubeError
from .result import CheckResult

AREA = "acceptance"
# Workload kinds the acceptance template may use, and their custom-resource plural.
CUSTOM_PLURALS = {"MPIJob": "mpijobs", "JobSet": "jobsets", "TrainJob": "trainjobs", "PyTorchJob": "pytorchjobs"}
WORKLOAD_KINDS = {"Job", *CUSTOM_PLURALS}
DONE_CONDITIONS = ("Complete", "Completed", "Succeeded")
# Labels the job controllers put on the pods they create, each with the owning job's name.
POD_JOB_LABELS = ("batch.kubernetes.io/job-name", "job-name", "training.kubeflow.org/job-name",
                  "jobset.sigs.k8s.io/jobset-name", "aidc.io/job")
POLL_SECONDS = 5.0
LOG_BYTES = 4 << 20  # nccl-tests prints a few KiB; cap what a runaway log costs


def render_acceptance_job(spec: Any, stack: str, pool: Any, team: str, nodes: int) -> list[dict]:
    """The NCCL acceptance job's manifests, rendered by the training platform from its template
    in `k8s/` (the same as `aidc job render --template nccl-tests`). UserError when the request
    could never run (team, quota, node count)."""
    from components.training.jobs import JobError, JobRequest, render_job
    req = JobRequest(stack=stack, pool=pool.name, team=team, nodes=nodes, template="nccl-tests")
    try:
        text = render_job(spec, req)
    except JobError as err:
        raise UserError("--run-acceptance: cannot render the NCCL acceptance job",
                        [Problem(err.field, str(err))]) from None
    return [doc for doc in yaml.safe_load_all(text) if doc]


@dataclass
class Created:
    api_version: str
    kind: str
    namespace: str
    name: str


@dataclass
class Run:
    kube: Kube
    timeout: float
    poll: float = POLL_SECONDS
    progress: TextIO | None = None
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    created: list[Created] = field(default_factory=list)

    # -- create / read / delete one object --------------------------------------------------
    def _custom(self, obj: Created) -> tuple[str, str, str]:
        group, version = obj.api_version.split("/", 1)
        return group, version, CUSTOM_PLURALS[obj.kind]

    def create(self, manifest: dict) -> Created:
        meta = manifest["metadata"]
        obj = Created(manifest["apiVersion"], manifest["kind"], meta.get("namespace", "default"), meta["name"])
        try:
            self._create(obj, manifest)
        except KubeError as err:
            if err.kind == UNREACHABLE:
                # The request may have landed before the connection failed: try to delete it too
                # (a 404 then is fine). A refusal (403, 409 exists) created nothing of ours.
                self.created.append(obj)
            raise
        self.created.append(obj)
        return obj

    def _create(self, obj: Created, manifest: dict) -> None:
        what = f"create {obj.kind} {obj.namespace}/{obj.name}"
        k = self.kube
        if obj.kind == "Job" and obj.api_version == "batch/v1":
            k.call(what, k.batch.create_namespaced_job, obj.namespace, manifest, cache=False)
        elif obj.kind == "ConfigMap" and obj.api_version == "v1":
            k.call(what, k.core.create_namespaced_config_map, obj.namespace, manifest, cache=False)
        elif obj.kind in CUSTOM_PLURALS:
            group, version, plural = self._custom(obj)
            k.call(what, k.custom.create_namespaced_custom_object, group, version, obj.namespace, plural,
                   manifest, cache=False)
        else:
            raise KubeError("error", f"acceptance template holds a {obj.kind}; aidc creates only Job, ConfigMap, "
                                     f"{', '.join(sorted(CUSTOM_PLURALS))}")

    def status(self, obj: Created) -> dict:
        k = self.kube
        what = f"get {obj.kind} {obj.namespace}/{obj.name}"
        if obj.kind == "Job":
            job = k.call(what, k.batch.read_namespaced_job_status, obj.name, obj.namespace, cache=False)
            return k.api.sanitize_for_serialization(job).get("status") or {}
        group, version, plural = self._custom(obj)
        found = k.call(what, k.custom.get_namespaced_custom_object, group, version, obj.namespace, plural,
                       obj.name, cache=False)
        return found.get("status") or {}

    def delete(self, obj: Created) -> str | None:
        """Delete one created object with its pods; None when gone, else why not."""
        k = self.kube
        what = f"delete {obj.kind} {obj.namespace}/{obj.name}"
        try:
            if obj.kind == "Job":
                k.call(what, k.batch.delete_namespaced_job, obj.name, obj.namespace,
                       propagation_policy="Background", cache=False)
            elif obj.kind == "ConfigMap":
                k.call(what, k.core.delete_namespaced_config_map, obj.name, obj.namespace, cache=False)
            else:
                group, version, plural = self._custom(obj)
                k.call(what, k.custom.delete_namespaced_custom_object, group, version, obj.namespace, plural,
                       obj.name, propagation_policy="Background", cache=False)
        except KubeError as err:
            return None if err.kind == NOT_FOUND else str(err)
        return None

    # -- the run --------------------------------------------------------------------------
    def _show(self, text: str) -> None:
        if self.progress is not None:
            self.progress.write(f"\r\033[K{text}")
            self.progress.flush()

    def wait(self, job: Created) -> tuple[str, str]:
        """('done'|'failed'|'timeout', detail), polling until the deadline."""
        start = self.clock()
        deadline = start + self.timeout
        lost: KubeError | None = None
        while True:
            try:
                status, lost = self.status(job), None
            except KubeError as err:
                if err.kind != UNREACHABLE:
                    raise
                status, lost = {}, err  # a blip in a long run: keep polling until the deadline
            conditions = {c.get("type"): c for c in status.get("conditions") or [] if c.get("status") == "True"}
            if "Failed" in conditions:
                c = conditions["Failed"]
                return "failed", c.get("message") or c.get("reason") or "job failed"
            if any(d in conditions for d in DONE_CONDITIONS):
                return "done", ""
            now = self.clock()
            if now >= deadline:
                return "timeout", f"not finished after {self.timeout:g} s" + (f" ({lost})" if lost else "")
            self._show(f"acceptance {job.kind} {job.namespace}/{job.name}: running {now - start:.0f} s "
                       f"(timeout {self.timeout:g} s)")
            self.sleep(min(self.poll, max(deadline - now, 0.0)))

    def logs(self, job: Created) -> str:
        """Logs of the job's pods; the one that printed the result table first."""
        k = self.kube
        pods = k.call(f"list pods in {job.namespace}", k.core.list_namespaced_pod, job.namespace, cache=False).items
        mine = [p for p in pods if any((p.metadata.labels or {}).get(key) == job.name for key in POD_JOB_LABELS)]
        texts = []
        for pod in sorted(mine, key=lambda p: p.metadata.name):
            text = k.call(f"read log of pod {job.namespace}/{pod.metadata.name}", k.core.read_namespaced_pod_log,
                          pod.metadata.name, job.namespace, limit_bytes=LOG_BYTES, cache=False)
            texts.append(text or "")
        texts.sort(key=lambda t: "Avg bus bandwidth" not in t)
        return texts[0] if texts else ""


def run_acceptance(cat: Any, kube: Kube, pool: Any, manifests: list[dict], nodes: int, timeout: float,
                   progress: TextIO | None = None, poll: float | None = None) -> CheckResult:
    """Create `manifests`, wait for the workload, judge its busbw; delete everything created."""
    check_id, title = f"acceptance/{pool.name}", f"{pool.name}: NCCL all-reduce on {nodes} nodes"
    inst = cat.instances[pool.instance_type]

    def result(ok: bool, reason: str) -> CheckResult:
        return CheckResult(check_id, AREA, title, "pass" if ok else "fail", reason)

    workloads = [m for m in manifests if m.get("kind") in WORKLOAD_KINDS]
    if not workloads:
        return result(False, "the acceptance template renders no Job to run")
    run = Run(kube, timeout, poll=POLL_SECONDS if poll is None else poll, progress=progress)
    ok, reason, cleanup = False, "", []
    try:
        for manifest in manifests:
            run.create(manifest)
        job = next(c for c in run.created if c.kind in WORKLOAD_KINDS)
        state, detail = run.wait(job)
        if state == "timeout":
            reason = f"{job.kind} {job.namespace}/{job.name} {detail}"
        else:
            try:
                ok, reason = nccl.verdict(nccl.parse(run.logs(job)), inst.nccl_floor(getattr(pool, "fabric", None)))
                ok = ok and state == "done"
                if state == "failed":
                    reason = f"job failed ({detail}); {reason}"
            except nccl.NcclOutputError as exc:
                reason = f"{job.kind} {job.namespace}/{job.name} {'failed: ' + detail if detail else 'finished'}; {exc}"
    except KubeError as err:
        reason = str(err)
    finally:
        run._show("")
        for obj in reversed(run.created):
            problem = run.delete(obj)
            if problem:
                cleanup.append(problem)
    if cleanup:
        ok, reason = False, f"{reason}; CLEANUP FAILED, delete by hand: {'; '.join(cleanup)}"
    return result(ok, reason)
