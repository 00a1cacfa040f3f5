"""A recorded cluster: `aidc verify --snapshot FILE` answers every read from a file of API
answers instead of a live API server, and `--record FILE` writes one while verifying a live
cluster. The checks, the client and its parsing are the real ones; only the transport differs.

The file: {"server": URL, "recorded": date, "answers": {"/api/v1/nodes": <the JSON the API
server sent>, ...}}. A path not in the file answers 404, as a cluster without that object (or
kind) would; writes are refused (a dry run creates nothing)."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

from kubernetes import client
from kubernetes.client import rest

from aidc.errors import Problem, UserError

NOT_SERVED = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404,
              "message": "the server could not find the requested resource"}


def _response(status: int, reason: str, body: Any) -> rest.RESTResponse:
    resp = rest.RESTResponse(SimpleNamespace(status=status, reason=reason, data=json.dumps(body).encode(),
                                             headers={"content-type": "application/json"}))
    resp.read()
    return resp


class _Replay:
    """The REST layer of the kubernetes client, answering from a snapshot."""

    def __init__(self, answers: dict[str, Any]):
        self.answers = answers

    def request(self, method: str, url: str, headers: Any = None, body: Any = None, post_params: Any = None,
                _request_timeout: Any = None) -> rest.RESTResponse:
        path = urlsplit(url).path
        if method != "GET":
            raise client.ApiException(status=405, reason="Method Not Allowed",
                                      body=json.dumps({"message": "a snapshot is read-only: nothing is created"}))
        if path not in self.answers:
            resp = _response(404, "Not Found", NOT_SERVED)
            raise client.ApiException(http_resp=resp)
        return _response(200, "OK", self.answers[path])


class _Recorder:
    """The live REST layer, keeping every successful read for the snapshot file."""

    def __init__(self, live: Any):
        self.live = live
        self.answers: dict[str, Any] = {}

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        resp = self.live.request(method, url, **kwargs)
        if method == "GET" and 200 <= resp.status < 300:
            resp.read()
            try:
                self.answers[urlsplit(url).path] = json.loads(resp.data)
            except ValueError:
                pass  # a log or other text: not part of a snapshot
        return resp


def replay_client(path: str) -> client.ApiClient:
    """An ApiClient that reads the cluster recorded in `path` (UserError when unreadable)."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise UserError(f"cannot read snapshot {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise UserError(f"{path}: not JSON", [Problem("(file)", str(exc), path)]) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("answers"), dict):
        raise UserError(f"{path}: not a cluster snapshot",
                        [Problem("answers", "expected a mapping of API paths to the JSON served there "
                                            "(aidc verify --record FILE writes one)", path)])
    cfg = client.Configuration()
    cfg.host = str(doc.get("server") or f"snapshot {path}")
    api = client.ApiClient(cfg)
    api.rest_client = _Replay(doc["answers"])
    return api


def record(api: client.ApiClient) -> _Recorder:
    """Start keeping what `api` reads; `write(recorder, server, path)` saves it."""
    recorder = _Recorder(api.rest_client)
    api.rest_client = recorder
    return recorder


def write(recorder: _Recorder, server: str, path: str) -> None:
    doc = {"server": server, "recorded": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
           "answers": dict(sorted(recorder.answers.items()))}
    Path(path).write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
