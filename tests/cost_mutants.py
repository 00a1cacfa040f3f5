"""Hand-written single mutations of the cost model (aidc/cost.py, cost_pools.py, cost_rates.py):
each is applied, the cost tests run (-x), the file restored. Not collected by pytest; run
`python tests/cost_mutants.py [N ...]` from the repository to see which mutants the tests kill
(the issue-16 ones first). Slow: about 20-60 s a mutant."""
import subprocess
import sys
import time
from pathlib import Path

WT = Path(__file__).resolve().parent.parent
C, P, R = "aidc/cost.py", "aidc/cost_pools.py", "aidc/cost_rates.py"
M = [
 ("issue: scale-to-zero billed always-on", P, "(monthly_hours(wh.start, wh.end) or HOURS_PER_MONTH)", "HOURS_PER_MONTH"),
 ("issue: NodePool labels not read", P, '.get("template") or {}).get("metadata", {})', '.get("templates") or {}).get("metadata", {})'),
 ("issue: 200Gi counted as 400 GiB", P, '"Gi": 1.0,', '"Gi": 2.0,'),
 ("issue: spot discount lost", C, 'return od[0] * (1 - spot_discount), ""', 'return od[0], ""'),
 ("issue: negative minimum", P, 'as_int(sc.get("minSize")) or 0,', '-(as_int(sc.get("minSize")) or 0),'),
 ("issue: --json key renamed", C, '"byPool": self.by_pool()', '"bypool": self.by_pool()'),
 ("720 h month", C, "node_month = rate * HOURS_PER_MONTH + p.disk_gib * disk", "node_month = rate * 720 + p.disk_gib * disk"),
 ("pool disk doubled", C, "node_month = rate * HOURS_PER_MONTH + p.disk_gib * disk", "node_month = rate * HOURS_PER_MONTH + 2 * p.disk_gib * disk"),
 ("pool billed by expected nodes not hours", C, "p.node_hours / HOURS_PER_MONTH * node_month,", "p.expected * node_month,"),
 ("pool max at expected hours", C, "p.max_node_hours / HOURS_PER_MONTH * node_month, p.name)", "p.node_hours / HOURS_PER_MONTH * node_month, p.name)"),
 ("system nodes at min not desired", C, 'count = as_int(sc.get("desiredSize")) if as_int(sc.get("desiredSize")) is not None else as_int(sc.get("minSize")) or 0', 'count = as_int(sc.get("minSize")) or 0'),
 ("system max at count", C, "(mx if mx is not None else count) * node_month, pool)", "count * node_month, pool)"),
 ("system spot not discounted", C, "rate = od[0] * (1 - spot_discount) if spot else od[0]", "rate = od[0]"),
 ("CB rate ignored", C, "        if cb is not None:\n            return cb,", "        if cb is None:\n            return cb,"),
 ("CB fallback drops on-demand", C, 'return od[0], why + f"; priced at its', 'return None, why + f"; priced at its'),
 ("reservation discounted like spot", C, 'if p.capacity == "spot":\n        return od[0] * (1 - spot_discount), ""', 'if p.capacity in ("spot", "reservation"):\n        return od[0] * (1 - spot_discount), ""'),
 ("extended support boundary >=", C, 'if kv is not None and as_of > kv.standard_support_end and support == "EXTENDED":', 'if kv is not None and as_of >= kv.standard_support_end and support == "EXTENDED":'),
 ("extended support ignores STANDARD", C, 'as_of > kv.standard_support_end and support == "EXTENDED":', 'as_of > kv.standard_support_end:'),
 ("NAT data not shared", C, "data = s.nat_data_gb_per_month / len(nats)", "data = s.nat_data_gb_per_month"),
 ("endpoint one zone", C, 'zones = max(1, len(i.get("subnetIds") or []))', "zones = 1"),
 ("lustre backups dropped", C, "usd += size * backup", "usd += 0"),
 ("lustre tier ignored", C, "price = table.get(tier) if", "price = table.get(125) if"),
 ("S3 ladder restarts per bucket", C, "            s3_start += gb\n", "            s3_start += 0\n"),
 ("tier start ignored", R, "a, b = max(lo, start), min(hi, start + gb)", "a, b = lo, min(hi, start + gb)"),
 ("EBS volume rate off", C, 'add(size * rate, f"{size:g} GiB at the gp3 rate', 'add(size * rate * 1.1, f"{size:g} GiB at the gp3 rate'),
 ("NLB not priced", C, '.get("type") == "LoadBalancer":', '.get("type") == "NodePort":'),
 ("log GB ignored", C, "add(s.log_ingest_gb_per_month * rate,", "add(rate,"),
 ("GPU count per node lost", C, "        gpus += p.expected * p.gpus_per_node", "        gpus += p.expected"),
 ("GPU max at expected", C, "gpus_max += (p.max if p.max is not None else p.expected) * p.gpus_per_node", "gpus_max += p.expected * p.gpus_per_node"),
 ("unpriced pools in GPU-hours", C, "        elif line.priced:\n", "        else:\n"),
 ("power by expected nodes", C, "kw += p.node_hours / HOURS_PER_MONTH * node_kw", "kw += p.expected * node_kw"),
 ("on-prem GPUs not counted as unpriced", C, "unpriced_gpus += p.expected * p.gpus_per_node", "unpriced_gpus += 0"),
 ("$/GPU-h from max", C, "round(self.monthly_usd / self.gpu_hours, 4)", "round(self.monthly_usd_max / self.gpu_hours, 4)"),
 ("energy without hours", C, "round(self.power_kw * HOURS_PER_MONTH / 1000, 3)", "round(self.power_kw / 1000, 3)"),
 ("by_pool keeps empty key", C, "            if getattr(line, key):\n", "            if True:\n"),
 ("max total ignores line max", C, "return round(sum(line.monthly_usd if line.monthly_usd_max is None else line.monthly_usd_max", "return round(sum(line.monthly_usd if True else line.monthly_usd_max"),
 ("another Region's instance rate", R, "and inst.price.region == self.region \\", "and True \\"),
 ("CB-only type priced on demand", R, "                and not inst.capacity_block_only:", "                and True:"),
 ("stale test inverted", R, "self.as_of > cb.valid_until", "self.as_of < cb.valid_until"),
 ("region ignored", C, "rates = Rates(str(region or cat.prices.reference_region)", "rates = Rates(str(cat.prices.reference_region)"),
 ("serving floor rounds down", P, "serving_floor=int(-(-held // p.gpus_per_node))", "serving_floor=int(held // p.gpus_per_node)"),
 ("node-hours not capped at max", P, "return hours if self.max is None else min(hours, self.max * HOURS_PER_MONTH)", "return hours"),
 ("reserved never reserved", P, 'return self.capacity in RESERVED and self.max is not None', 'return False'),
 ("stated hours ignored", P, "stated_node_hours=spec.cost.pool_node_hours.get(p.name, 0.0)", "stated_node_hours=0.0"),
 ("csv expected column = max", C, 'f"{ln.monthly_usd:.2f}", f"{mx:.2f}"', 'f"{mx:.2f}", f"{mx:.2f}"'),
 ("json gpuHours renamed", C, '"gpuHours": round(self.gpu_hours, 2)', '"gpuHour": round(self.gpu_hours, 2)'),
 ("EKS default disk 30", P, 'return float(as_int(res.inputs.get("diskSize")) or 20)', 'return float(as_int(res.inputs.get("diskSize")) or 30)'),
 ("Ti as 1000", P, '"Ti": 1024.0', '"Ti": 1000.0'),
 ("NodeClass disk lost", P, "        return 0.0\n    return sum(gib((m.get(\"ebs\") or {}).get(\"volumeSize\"))\n               for m in (node_class", "        return 0.0\n    return 0.0 * sum(gib((m.get(\"ebs\") or {}).get(\"volumeSize\"))\n               for m in (node_class"),
 ("work-hours nodes per replica not rounded to nodes", P, "work += -(-svc.gpus_per_replica // p.gpus_per_node) *", "work += svc.gpus_per_replica *"),
 # a second, blind round (written after the tests above, before the tests that kill them)
 ("tier charges the upper bound", R, "usd += (b - a) * tier.usd_per_gb_month", "usd += b * tier.usd_per_gb_month"),
 ("bucket kind ignored", C, "return kind, expected.get(kind, 0.0)", 'return kind, expected.get("datasets", 0.0)'),
 ("gateway endpoints priced", C, 'elif t == ENDPOINT and i.get("vpcEndpointType") == "Interface":', 'elif t == ENDPOINT and i.get("vpcEndpointType") != "GatewayLoadBalancer":'),
 ("services of other pools counted", P, "        if svc.pool != p.name:\n            continue", "        if svc.pool != p.name:\n            pass"),
 ("reservation at block rate", C, 'if p.capacity == "capacityBlock":', 'if p.capacity in ("capacityBlock", "reservation"):'),
 ("no-region not said", C, "stated=bool(region))", "stated=True)"),
 ("unbounded never flagged", C, "unbounded |= p.max is None", "unbounded |= False"),
 ("regional instance table skipped", R, "if table is not None and itype in table.instances", "if False and table is not None and itype in table.instances"),
 ("override not applied", "aidc/policy.py", "levels[o.policy] = (level, {**params, **o.params})", "levels[o.policy] = (level, params)"),
 ("stack budget loosens", "policies/rules/monthly_budget.py", "if own is not None and own < budget:", "if own is not None and own > budget:"),
 ("bare number as GB", P, '_SCALE[m.group(2) or "Gi"]', '_SCALE[m.group(2) or "G"]'),
 ("csv unsorted", C, "for ln in sorted(self.lines, key=lambda x: (x.component, x.pool, x.urn)):", "for ln in self.lines:"),
]
TESTS = ["tests/test_cost.py", "tests/test_cost_lines.py", "tests/test_cost_truth.py", "tests/test_pool_model.py", "tests/test_onprem_pools.py", "tests/test_policy_runner.py"]
only = set(sys.argv[1:])
for n, (name, f, old, new) in enumerate(M, 1):
    if only and str(n) not in only:
        continue
    path = WT / f
    text = path.read_text()
    if text.count(old) != 1:
        print(f"{n:2} SKIP (pattern x{text.count(old)}): {name}", flush=True)
        continue
    path.write_text(text.replace(old, new))
    try:
        t = time.time()
        r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *TESTS], cwd=WT,
                           capture_output=True, text=True)
        fail = [line for line in r.stdout.splitlines() if line.startswith("FAILED")][:1]
        state = "killed" if r.returncode else "SURVIVED"
        print(f"{n:2} {state:8} {time.time()-t:5.0f}s {name}  {fail[0][7:90] if fail else ''}", flush=True)
    finally:
        path.write_text(text)
