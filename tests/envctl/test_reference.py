"""docs/reference.md is generated from the code that owns each fact, and kept in step with it."""

from __future__ import annotations

from components.config import parse_config
from envctl.plan import Rendering
from envctl.reference import reference
from policies.contracts.conventions import CARD_FIELDS, OUTPUTS
from tests.support.program import ROOT, over_defaults


def test_the_reference_is_generated_from_the_code() -> None:
    assert (ROOT / "docs" / "reference.md").read_text() == reference(), (
        "docs/reference.md is stale: run `python -m envctl.reference > docs/reference.md`"
    )


def test_every_output_the_program_exports_is_documented_and_every_documented_one_is_exported(
    rendered: dict[str, Rendering],
) -> None:
    exported = {name: set(r.outputs) for name, r in rendered.items()}
    for stack, names in exported.items():
        assert names <= set(OUTPUTS), (stack, names - set(OUTPUTS))
        assert set(CARD_FIELDS) <= names, stack  # every stack shows the whole card
    assert set().union(*exported.values()) == set(OUTPUTS)


def test_the_card_comes_first_in_the_product_order() -> None:
    assert list(OUTPUTS)[: len(CARD_FIELDS)] == list(CARD_FIELDS)
    assert CARD_FIELDS == ("name", "type", "cloudProvider", "region", "cluster", "createdAt")


def test_the_name_the_reference_calls_defaulted_is_the_stack_name() -> None:
    assert parse_config(over_defaults({"aws:region": "ap-northeast-2", "envstack:type": "dev"}), "qa-7").name == "qa-7"
    assert "| `envstack:name` | the stack name |" in reference()


def test_every_relative_link_in_the_readme_and_docs_resolves() -> None:
    import re

    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    links = [
        (page, target)
        for page in pages
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text())
        if "://" not in target
    ]
    assert len(links) >= 10  # the README's documentation table alone links every page
    broken = [f"{page.name} -> {target}" for page, target in links if not (page.parent / target).exists()]
    assert broken == []
