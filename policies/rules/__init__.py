"""One rule per module; each exports RULE (see policies/rule.py)."""
