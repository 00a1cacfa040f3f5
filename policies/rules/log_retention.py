from policies.rule import Rule, num

# CloudWatch Logs: no retention (0 or unset) keeps events forever, which meets any minimum.
NEVER_EXPIRE = 0


def check(rtype, props, ctx):
    days = num(props.get("retentionInDays"), NEVER_EXPIRE)
    least = ctx.params["minDays"]
    if days is not None and days != NEVER_EXPIRE and days < least:
        yield f"keeps {days:g} days of logs; this environment keeps at least {least}"


RULE = Rule(
    name="log-retention",
    description="CloudWatch log groups (control plane, flow logs) keep their events at least the environment's "
                "minimum (prod: a year).",
    severity="medium", enforcement="mandatory",
    remediation="Raise aidc:cluster.logRetentionDays / aidc:network.flowLogRetentionDays (the prod defaults keep "
                "365 days), or lower minDays for this rule in policies/config/<env>.json after review.",
    check=check, types=("aws:cloudwatch/logGroup:LogGroup",), params={"minDays": 1},
)
