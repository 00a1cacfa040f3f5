"""A small fake Kubernetes API server for tests: http.server in a thread on 127.0.0.1,
answering the exact list/get/create/delete paths `aidc verify` calls with recorded API JSON,
and recording every request it saw."""

from __future__ import annotations

import copy
import json
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

FIXTURES = Path(__file__).parent / "fixtures" / "verify"

Answer = tuple[int, Any]  # (HTTP status, JSON body or str for text/plain)
Route = Answer | Callable[[Any], Answer | None]  # a callable returning None drops the connection


def fixture(name: str) -> Any:
    path = FIXTURES / name
    return json.loads(path.read_text()) if name.endswith(".json") else path.read_text()


def status(code: int, reason: str, message: str) -> Answer:
    """A metav1.Status body, as the API server sends with errors."""
    return code, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                  "message": message, "reason": reason, "code": code}


def forbidden(verb: str, resource: str, group: str = "", namespace: str | None = None) -> Answer:
    scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    res = f'"{resource}" in API group "{group}"'
    return status(403, "Forbidden", f'{resource} is forbidden: User "verifier" cannot {verb} resource {res} {scope}')


def not_found(resource: str, name: str) -> Answer:
    return status(404, "NotFound", f'{resource} "{name}" not found')


def item_list(kind: str, items: list[dict], api_version: str = "v1") -> dict:
    return {"kind": f"{kind}List", "apiVersion": api_version, "metadata": {"resourceVersion": "4812500"},
            "items": items}


class FakeKube:
    def __init__(self, routes: dict[tuple[str, str], Route] | None = None):
        self.routes: dict[tuple[str, str], Route] = dict(routes or {})
        self.requests: list[tuple[str, str, Any]] = []
        self.queries: list[tuple[str, str, str]] = []  # (method, path, query string)
        self.default: Answer | None = None  # answer for every path (e.g. 401 everywhere)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self) -> None:
                url = urlsplit(self.path)
                path = url.path
                fake.queries.append((self.command, path, url.query))
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                fake.requests.append((self.command, path, body))
                route = fake.default or fake.routes.get((self.command, path))
                if route is None:
                    code, out = status(404, "NotFound", f"the server could not find the requested resource ({path})")
                else:
                    answer = route(body) if callable(route) else copy.deepcopy(route)
                    if answer is None:  # drop the connection without a response: a network blip
                        self.close_connection = True
                        return
                    code, out = answer
                data = out.encode() if isinstance(out, str) else json.dumps(out).encode()
                self.send_response(code)
                self.send_header("Content-Type", "text/plain" if isinstance(out, str) else "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeKube:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def seen(self, method: str, path: str) -> int:
        return sum(1 for m, p, _ in self.requests if m == method and p == path)


def write_kubeconfig(path: Path, server: str, token: str = "test-token") -> Path:
    path.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "test",
        "clusters": [{"name": "test", "cluster": {"server": server}}],
        "users": [{"name": "verifier", "user": {"token": token}}],
        "contexts": [{"name": "test", "context": {"cluster": "test", "user": "verifier"}}],
    }))
    return path


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SilentServer:
    """Accepts TCP connections on loopback and never answers: a hung API server."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def __enter__(self) -> SilentServer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.sock.close()
