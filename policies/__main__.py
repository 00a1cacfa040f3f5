"""CrossGuard entry point: `pulumi preview --policy-pack policies --policy-pack-config
policies/config/prod.json`. The rules are the ones `aidc policy` runs offline."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository: aidc, components, policies

from pulumi_policy import EnforcementLevel, PolicyPack  # noqa: E402

from policies.crossguard import policies  # noqa: E402

PolicyPack(name="aidc", enforcement_level=EnforcementLevel.ADVISORY, policies=policies())
