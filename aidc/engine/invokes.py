"""The offline engine's answers to provider invokes: one table, deterministic values.

A plan made offline stands in for `pulumi preview`, so answers look like AWS's: a fixed
account, the region's zones a-f, a well-formed AMI id."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

ACCOUNT_ID = "123456789012"


def _zones(args: dict[str, Any], region: str) -> dict[str, Any]:
    names = [f"{region}{c}" for c in "abcdef"]
    return {"names": names, "zoneIds": [f"use1-az{i + 1}" for i in range(len(names))],
            "groupNames": [region] * len(names), "id": region, "state": args.get("state")}


def _ssm_parameter(args: dict[str, Any], region: str) -> dict[str, Any]:
    digest = hashlib.sha256(args["name"].encode()).hexdigest()[:17]
    return {"name": args["name"], "value": f"ami-{digest}", "type": "String", "id": args["name"],
            "arn": f"arn:aws:ssm:{region}::parameter{args['name']}", "version": 1, "insecureValue": f"ami-{digest}"}


INVOKES: dict[str, Callable[[dict[str, Any], str], dict[str, Any]]] = {
    "aws:index/getAvailabilityZones:getAvailabilityZones": _zones,
    "aws:index/getCallerIdentity:getCallerIdentity": lambda a, r: {
        "accountId": ACCOUNT_ID, "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/aidc-offline",
        "userId": "AIDAOFFLINE", "id": ACCOUNT_ID},
    "aws:index/getPartition:getPartition": lambda a, r: {
        "partition": "aws", "dnsSuffix": "amazonaws.com", "reverseDnsPrefix": "com.amazonaws", "id": "aws"},
    "aws:index/getRegion:getRegion": lambda a, r: {
        "name": r, "region": r, "id": r, "endpoint": f"ec2.{r}.amazonaws.com", "description": r},
    "aws:ssm/getParameter:getParameter": _ssm_parameter,
}


class UnansweredInvoke(Exception):
    pass


def answer(token: str, args: dict[str, Any], region: str) -> dict[str, Any]:
    try:
        fn = INVOKES[token]
    except KeyError:
        raise UnansweredInvoke(f"the offline engine has no answer for invoke {token}; add it to aidc/engine/invokes.py") from None
    return fn(args, region)
