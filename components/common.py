"""Small helpers every component shares: names, tags, IAM documents."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pulumi


def tags_for(tags: Mapping[str, str], name: str) -> dict[str, str]:
    """The stack's tags plus a Name, for one AWS resource."""
    return {**tags, "Name": name}


def child(parent: pulumi.Resource, **kwargs: Any) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions(parent=parent, **kwargs)


def stateful(parent: pulumi.Resource, protect: bool, **kwargs: Any) -> pulumi.ResourceOptions:
    """Options for a resource that holds data: protected and kept on delete when asked."""
    return pulumi.ResourceOptions(parent=parent, protect=protect, retain_on_delete=protect, **kwargs)


def assume_role_policy(service: str, *, tag_session: bool = False) -> str:
    actions = ["sts:AssumeRole", "sts:TagSession"] if tag_session else ["sts:AssumeRole"]
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": actions}],
    })


def policy_document(*statements: Mapping[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, sort_keys=True)


def managed_policy(partition: str | pulumi.Output[str], name: str) -> pulumi.Output[str]:
    return pulumi.Output.concat("arn:", partition, ":iam::aws:policy/", name)
