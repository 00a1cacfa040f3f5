"""`aidc plan`: the files it writes survive a reader that stops early, and the summary and the
diagram show the MPI operator (a manifest the Kubernetes provider expands at deploy time)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT


def test_plan_json_is_written_when_the_reader_stops_early(tmp_path):
    plan, diagram = tmp_path / "plan.json", tmp_path / "d.md"
    # `| head -1`: the reader closes the pipe after the first line (prod: more than a pipe buffer
    # of summary, so the writer meets the closed pipe before it exits).
    proc = subprocess.Popen([sys.executable, "-m", "aidc", "plan", "prod", "--json", str(plan),
                             "--diagram", str(diagram)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0, err
    assert first.startswith(b"stack prod") and "Traceback" not in err
    assert json.loads(plan.read_text())["steps"]
    assert "mpi-operator v0.8.0 (manifest)" in diagram.read_text()


def test_the_summary_counts_the_mpi_operator_manifest(capsys):
    from aidc.cli import main
    assert main(["plan", "staging"]) == 0
    out = capsys.readouterr().out
    training = out[out.index("aidc:training:TrainingPlatform"):]
    assert "kubernetes:yaml/v2:ConfigFile" in training.split("\n  aidc:")[0]
