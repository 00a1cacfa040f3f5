"""The live cluster, through the official `kubernetes` client: read-only calls, each answer
cached for the run, every failure turned into a `KubeError` that says what went wrong
(unreachable, credentials rejected, RBAC denial) instead of a traceback."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import urllib3
import yaml
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from aidc.errors import UserError

from .names import OPERATORS

# Words for each failure kind, used in reasons and the JSON output.
UNREACHABLE, UNAUTHORIZED, FORBIDDEN, NOT_FOUND, ERROR = "unreachable", "unauthorized", "forbidden", "not found", "error"
NOT_INSTALLED = "not installed"  # the API server serves no such kind: its operator (CRD) is missing
OTHER_VERSION = "other version"  # the kind's API group is served, at other versions than the stack's release

# What to do when no check can read the cluster at all: said once, not once per check.
FIX = {
    UNREACHABLE: "check that this machine reaches the kubeconfig's server (a private EKS endpoint needs the VPC: "
                 "VPN, bastion or endpointAccess publicAndPrivate with your CIDR), and that the kubeconfig is "
                 "current (aws eks update-kubeconfig --name CLUSTER)",
    UNAUTHORIZED: "renew the credentials: an EKS kubeconfig runs `aws eks get-token`, so the AWS CLI must be on "
                  "PATH and signed in to the cluster's account (aws sso login, AWS_PROFILE) with an access entry "
                  "on the cluster (aidc:cluster.adminRoleArns)",
}


class KubeError(Exception):
    def __init__(self, kind: str, message: str):
        self.kind = kind
        super().__init__(message)


def _server_message(exc: ApiException) -> str:
    try:
        return str(json.loads(exc.body or "{}").get("message") or exc.reason or "")
    except (ValueError, AttributeError):
        return str(exc.reason or "")


def _names_an_object(exc: ApiException) -> bool:
    """A 404 about one object (`... "name" not found`, with details.name), not about its kind
    (`the server could not find the requested resource`, or a bare `404 page not found` for a
    group the server does not serve)."""
    try:
        body = json.loads(exc.body or "{}")
    except ValueError:
        return False
    return isinstance(body, dict) and bool((body.get("details") or {}).get("name"))


def operator_of(group: str, plural: str) -> str:
    return OPERATORS.get(f"{plural}.{group}") or OPERATORS.get(group) or f"the operator of {group}"


def classify(exc: BaseException, what: str, server: str,
             kind: tuple[str, str, str] | None = None) -> KubeError:
    """One failed call -> a KubeError whose message names the call and the cause; `kind`
    (group, version, plural) of a custom resource turns a 404 on the kind into NOT_INSTALLED."""
    if isinstance(exc, ApiException) and exc.status:
        msg = _server_message(exc)
        if exc.status == 401:
            return KubeError(UNAUTHORIZED, f"{what}: credentials rejected (401 Unauthorized; token expired or "
                                           f"invalid?){': ' + msg if msg else ''}")
        if exc.status == 403:
            return KubeError(FORBIDDEN, f"{what}: RBAC denies it (403 Forbidden){': ' + msg if msg else ''}")
        if exc.status == 404:
            if kind is not None and not _names_an_object(exc):
                group, version, plural = kind
                return KubeError(NOT_INSTALLED, f"{operator_of(group, plural)} not installed: the cluster serves no "
                                                f"{plural}.{group}/{version} ({what})")
            return KubeError(NOT_FOUND, f"{what}: not found{' (' + msg + ')' if msg else ''}")
        return KubeError(ERROR, f"{what}: API server answered {exc.status} {exc.reason or ''}".rstrip())
    if isinstance(exc, ApiException | urllib3.exceptions.HTTPError | OSError):
        cause = exc
        while getattr(cause, "reason", None) is not None and isinstance(cause.reason, BaseException):
            cause = cause.reason  # MaxRetryError -> NewConnectionError -> ...
        text = str(cause)
        if "refused" in text.lower():
            text = "connection refused"
        elif isinstance(cause, urllib3.exceptions.TimeoutError) or "timed out" in text.lower():
            text = "timed out"
        elif isinstance(cause, urllib3.exceptions.ProtocolError):
            text = "connection dropped without an answer"
        return KubeError(UNREACHABLE, f"API server {server} unreachable ({text})")
    return KubeError(ERROR, f"{what}: {type(exc).__name__}: {exc}")


def load_client(kubeconfig: str, request_timeout: float) -> client.ApiClient:
    """An ApiClient for the kubeconfig's current context, or UserError (exit 2) when the file
    cannot be read or names no usable cluster."""
    cfg = client.Configuration()
    try:
        config.load_kube_config(config_file=kubeconfig, client_configuration=cfg, persist_config=False)
    except FileNotFoundError:
        raise UserError(f"cannot read kubeconfig {kubeconfig}: no such file") from None
    except (OSError, yaml.YAMLError, ConfigException, TypeError, ValueError, KeyError) as exc:
        raise UserError(f"cannot use kubeconfig {kubeconfig}: {exc}") from None
    cfg.retries = 0  # one attempt per call: an answer or a clear "unreachable", never a silent retry loop
    api = client.ApiClient(cfg)
    api._aidc_timeout = request_timeout  # type: ignore[attr-defined]
    return api


class Kube:
    """Read-only view of one cluster (plus the acceptance job's own create/delete). Once the API
    server is found unreachable, later reads fail at once with the same reason, so a dead server
    costs one timeout, not one per check; uncached calls (polls, cleanup) are always attempted."""

    def __init__(self, api: client.ApiClient, request_timeout: float = 10.0):
        self.api = api
        self.core = client.CoreV1Api(api)
        self.apps = client.AppsV1Api(api)
        self.batch = client.BatchV1Api(api)
        self.custom = client.CustomObjectsApi(api)
        self.versions = client.VersionApi(api)
        self.server = api.configuration.host
        self.timeout = request_timeout
        self._cache: dict[tuple, Any] = {}
        self._down: KubeError | None = None

    def call(self, what: str, fn: Callable[..., Any], *args: Any, cache: bool = True, **kwargs: Any) -> Any:
        key = (what, fn.__name__, args, tuple(sorted(kwargs.items())))
        if cache and key in self._cache:
            hit = self._cache[key]
            if isinstance(hit, KubeError):
                raise hit
            return hit
        if cache and self._down is not None:
            raise self._down  # reads give up on a dead server; polls and cleanup still try
        try:
            value = fn(*args, _request_timeout=self.timeout, **kwargs)
        except Exception as exc:  # noqa: BLE001 - every client failure becomes a reported KubeError
            kind = self._custom_kind(fn, args)
            err = classify(exc, what, self.server, kind)
            if err.kind == NOT_INSTALLED and kind is not None:
                err = self._other_version(kind, what) or err
            if err.kind == UNREACHABLE:
                self._down = err
            if cache:
                self._cache[key] = err
            raise err from None
        if cache:
            self._cache[key] = value
        return value

    def _custom_kind(self, fn: Callable[..., Any], args: tuple) -> tuple[str, str, str] | None:
        """(group, version, plural) of a CustomObjectsApi call: cluster-scoped calls take
        (group, version, plural, ...), namespaced ones (group, version, namespace, plural, ...)."""
        if getattr(fn, "__self__", None) is not self.custom or len(args) < 3:
            return None
        plural = args[2] if "cluster" in fn.__name__ else args[3] if len(args) > 3 else None
        return (args[0], args[1], plural) if plural else None

    def _other_version(self, kind: tuple[str, str, str], what: str) -> KubeError | None:
        """When the kind's group is served at other versions (an older or newer operator than
        the catalog pins), say so instead of "not installed"; None when the group is absent
        or discovery cannot tell."""
        group, version, plural = kind
        try:
            groups = self.call("list API groups", client.ApisApi(self.api).get_api_versions).groups or []
        except KubeError:
            return None
        served = next(([v.version for v in g.versions or []] for g in groups if g.name == group), [])
        if not served:
            return None
        return KubeError(OTHER_VERSION, f"{operator_of(group, plural)} serves {group} {', '.join(served)}, not "
                                        f"{version}: it is another release than the one the stack pins in the "
                                        f"catalog ({what})")

    def preflight(self) -> KubeError | None:
        """The one problem that stops every check (unreachable server, rejected credentials),
        found with one cheap call; None when the server answers."""
        try:
            self.server_version()  # cached: the checks that read the version ask no second time
        except KubeError as err:
            return err if err.kind in FIX else None
        return None

    # -- reads the checks use -------------------------------------------------------------
    def nodes(self) -> list[Any]:
        return self.call("list nodes", self.core.list_node).items

    def server_version(self) -> Any:
        """The API server's /version answer (major, minor, git_version)."""
        return self.call("get server version", self.versions.get_code)

    def all_daemonsets(self) -> list[Any]:
        return self.call("list daemonsets in all namespaces", self.apps.list_daemon_set_for_all_namespaces).items

    def daemonsets(self, namespace: str) -> list[Any]:
        return self.call(f"list daemonsets in {namespace}", self.apps.list_namespaced_daemon_set, namespace).items

    def daemonset(self, namespace: str, name: str) -> Any | None:
        return self._get(f"get daemonset {namespace}/{name}", self.apps.read_namespaced_daemon_set, name, namespace)

    def deployment(self, namespace: str, name: str) -> Any | None:
        return self._get(f"get deployment {namespace}/{name}", self.apps.read_namespaced_deployment, name, namespace)

    def pvc(self, namespace: str, name: str) -> Any | None:
        return self._get(f"get persistentvolumeclaim {namespace}/{name}",
                         self.core.read_namespaced_persistent_volume_claim, name, namespace)

    def cluster_objects(self, group: str, version: str, plural: str) -> list[dict]:
        return self.call(f"list {plural}.{group}", self.custom.list_cluster_custom_object,
                         group, version, plural).get("items", [])

    def namespaced_objects(self, group: str, version: str, namespace: str, plural: str) -> list[dict]:
        return self.call(f"list {plural}.{group} in {namespace}", self.custom.list_namespaced_custom_object,
                         group, version, namespace, plural).get("items", [])

    def namespaced_object(self, group: str, version: str, namespace: str, plural: str, name: str) -> dict | None:
        return self._get(f"get {plural}.{group} {namespace}/{name}", self.custom.get_namespaced_custom_object,
                         group, version, namespace, plural, name)

    def _get(self, what: str, fn: Callable[..., Any], *args: Any) -> Any | None:
        try:
            return self.call(what, fn, *args)
        except KubeError as err:
            if err.kind == NOT_FOUND:
                return None
            raise
