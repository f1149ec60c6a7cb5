"""TYPE_ACCESS against two public, independent sources, committed as data with provenance
(envctl/data/iam-crosscheck.json): terraform-provider-aws's Create/Read/Update/Delete functions
and the Pike project's mapping of Terraform resources to IAM actions. Reading the sources is
what the data records; these tests keep the mapping and the record in step."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from envctl.iam_actions import TYPE_ACCESS
from envctl.stackfiles import ROOT

DATA: dict[str, Any] = json.loads((ROOT / "envctl" / "data" / "iam-crosscheck.json").read_text())
TYPES: dict[str, Any] = DATA["types"]
AWS_TYPES = sorted(t for t in TYPE_ACCESS if t.startswith("aws:"))


def mapped(type_: str) -> set[str]:
    return {a for access in TYPE_ACCESS[type_] for a in (*access.read, *access.write)}


def test_every_mapped_aws_type_is_cross_checked() -> None:
    assert AWS_TYPES and sorted(TYPES) == AWS_TYPES


@pytest.mark.parametrize("type_", AWS_TYPES)
def test_a_mapped_type_has_every_action_both_sources_list(type_: str) -> None:
    entry = TYPES[type_]
    both = set(entry["pike"]["actions"]) & set(entry.get("provider", {}).get("actions", []))
    missing = both - mapped(type_) - set(entry["differences"])
    assert not missing, f"{type_}: both sources list {sorted(missing)}; map them or give a reason"


@pytest.mark.parametrize("type_", AWS_TYPES)
def test_every_remaining_difference_has_a_one_line_reason(type_: str) -> None:
    entry = TYPES[type_]
    listed = set(entry["pike"]["actions"]) | set(entry.get("provider", {}).get("actions", []))
    unexplained = listed - mapped(type_) - set(entry["differences"])
    assert not unexplained, f"{type_}: {sorted(unexplained)} neither mapped nor explained"
    for name, reason in entry["differences"].items():
        assert name in listed and name not in mapped(type_), (type_, name)  # no stale reason
        assert reason.strip() and "\n" not in reason, (type_, name)


def test_the_provenance_names_repository_commit_file_and_functions() -> None:
    assert re.fullmatch(r"[0-9a-f]{40}", DATA["pike"]["commit"]) and DATA["pike"]["repo"] == "JamesWoolfenden/pike"
    with_provider = [e["provider"] for e in TYPES.values() if "provider" in e]
    assert len(with_provider) >= 5
    for source in with_provider:
        assert source["repo"] == "hashicorp/terraform-provider-aws" and source["file"].startswith("internal/service/")
        assert source["functions"] and source["actions"]
        assert "commit" in source or "issue" in source
    for entry in TYPES.values():
        assert entry["pike"]["file"].startswith("src/mapping/aws/resource/") and entry["pike"]["actions"]


def test_the_issue_16_gaps_are_found_by_both_sources() -> None:
    """The cluster read that failed the first deploy: both sources list it, and it is mapped."""
    from policies.contracts import conventions

    cluster = TYPES[conventions.CLUSTER]
    assert "rds:DescribeGlobalClusters" in set(cluster["pike"]["actions"]) & set(cluster["provider"]["actions"])
    assert "rds:DescribeGlobalClusters" in mapped(conventions.CLUSTER)
