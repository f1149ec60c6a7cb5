"""The Secrets Manager rules: a deleted secret stays recoverable for 30 days. (The API key's
content is an isolation rule: rules_isolation.py.) Standard library only.
"""

from __future__ import annotations

from collections.abc import Iterator

from policies.contracts.conventions import SECRET
from policies.model import PROD, Res, Rule, Stack, collector, known

RULES: list[Rule] = []
rule = collector(RULES)


@rule("secret-recovery-window", PROD, "(own rule)", "Every secret can be recovered for 30 days after deletion.")
def _secret_window(s: Stack) -> Iterator[tuple[Res, str]]:
    for secret in s.of(SECRET):
        days = secret.get("recoveryWindowInDays")  # absent: AWS's default, 30
        if days is not None and known(days) and int(days) < 30:
            yield secret, f"recovery window is {days} days, below 30"
