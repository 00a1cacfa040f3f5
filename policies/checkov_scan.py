"""Checkov as a peer scanner over a plan: `aidc export` writes the Kubernetes objects (one
file per namespace: Checkov's NetworkPolicy check reads a file as one namespace) and the AWS
resources (a Terraform plan JSON); Checkov scans each; every failed check must be accepted,
with its reason, in policies/data/checkov-accepted.yaml. Checkov lives in its own virtualenv
(it pins packages that clash with aidc's): pass its executable with --checkov.

    python policies/checkov_scan.py prod --checkov /tmp/checkov-venv/bin/checkov

Exit 0 when every finding is accepted, 1 when one is not (each printed), 2 on bad input."""

from __future__ import annotations

import argparse
import fnmatch
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ACCEPTED = Path(__file__).resolve().parent / "data" / "checkov-accepted.yaml"


def accepted() -> list[dict[str, str]]:
    return yaml.safe_load(ACCEPTED.read_text(encoding="utf-8"))


def failures(checkov: str, target: Path, framework: str) -> list[tuple[str, str]]:
    out = subprocess.run([checkov, "--skip-download", "--quiet", "--compact", "-o", "json", "-f", str(target),
                          "--framework", framework], capture_output=True, text=True, check=False)
    if not out.stdout.strip():
        raise SystemExit(f"checkov gave no output for {target}: {out.stderr.strip()[-500:]}")
    reports = json.loads(out.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    return [(f["check_id"], f["resource"]) for r in reports if "results" in r for f in r["results"]["failed_checks"]]


def judge(found: list[tuple[str, str]], rules: list[dict[str, str]]) -> tuple[list[tuple[str, str]], list[dict]]:
    """(findings no rule accepts, rules that matched nothing)."""
    used: set[int] = set()
    unexplained = []
    for check, resource in found:
        hits = [i for i, r in enumerate(rules) if r["check"] == check and fnmatch.fnmatchcase(resource, r["resource"])]
        used.update(hits)
        if not hits:
            unexplained.append((check, resource))
    return unexplained, [r for i, r in enumerate(rules) if i not in used]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("stack", help="a stack name or Pulumi.<name>.yaml (planned offline)")
    ap.add_argument("--checkov", default="checkov", help="the checkov executable (its own venv)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        k8s, tf = Path(tmp) / "k8s", Path(tmp) / "tfplan.json"
        subprocess.run([sys.executable, "-m", "aidc", "export", args.stack, "--kubernetes", str(k8s),
                        "--terraform", str(tf)], check=True, stdout=subprocess.DEVNULL)
        found = failures(args.checkov, tf, "terraform_plan")
        for f in sorted(k8s.glob("*.yaml")):
            found += failures(args.checkov, f, "kubernetes")
    unexplained, stale = judge(found, accepted())
    for check, resource in found:
        print(f"{'ACCEPTED' if (check, resource) not in unexplained else 'FAILED  '} {check} {resource}")
    for r in stale:
        print(f"STALE    {r['check']} {r['resource']}: accepted but not found any more")
    print(f"{len(found)} findings, {len(found) - len(unexplained)} accepted, {len(unexplained)} unexplained")
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
