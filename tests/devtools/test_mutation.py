"""scripts/mutation's own logic: reading the equivalents, mutmut's listing, and the table."""

from __future__ import annotations

import pytest

from devtools.mutation import UsageError, module_name, parse_results, read_equivalents, render_table, tabulate

LISTING = """
    components.sql.x_quote_ident__mutmut_1: killed
    components.sql.x_quote_ident__mutmut_2: survived
    components.sql.xǁStatementǁshown__mutmut_1: survived
    components.sql.x_quote_literal__mutmut_1: no tests
    components.sqlx.x_other__mutmut_1: survived
    envctl.pr.x_now_utc__mutmut_1: killed
"""


def test_listing_is_parsed_into_names_and_statuses() -> None:
    assert parse_results(LISTING) == {
        "components.sql.x_quote_ident__mutmut_1": "killed",
        "components.sql.x_quote_ident__mutmut_2": "survived",
        "components.sql.xǁStatementǁshown__mutmut_1": "survived",
        "components.sql.x_quote_literal__mutmut_1": "no tests",
        "components.sqlx.x_other__mutmut_1": "survived",
        "envctl.pr.x_now_utc__mutmut_1": "killed",
    }


def test_table_counts_per_module_and_leaves_listed_equivalents_out_of_the_score() -> None:
    equivalents = {"components.sql.x_quote_ident__mutmut_2": "lower-case keyword"}
    rows = tabulate(["components.sql", "envctl.pr"], parse_results(LISTING), equivalents)
    sql, pr = rows
    # components.sqlx is another module: its mutants are not counted under components.sql.
    # A mutant no test covers ("no tests") is alive: it counts as a survivor, like "survived".
    assert (sql.mutants, sql.killed, sql.survived) == (4, 1, 3)
    assert sql.unexplained == (
        "components.sql.x_quote_literal__mutmut_1",
        "components.sql.xǁStatementǁshown__mutmut_1",
    )
    assert sql.other == {"no tests": 1}
    assert sql.score == "33.3%"  # 1 killed of 4 mutants less 1 equivalent
    assert (pr.mutants, pr.killed, pr.survived, pr.unexplained, pr.score) == (1, 1, 0, (), "100.0%")
    table = render_table(rows)
    assert "| `components.sql` | 4 | 1 | 3 (1 no tests) | 2 | 33.3% |" in table
    assert "| `envctl.pr` | 1 | 1 | 0 | 0 | 100.0% |" in table


def test_equivalents_need_a_reason() -> None:
    assert read_equivalents("# header\n\na.b__mutmut_1  # keyword case\n") == {"a.b__mutmut_1": "keyword case"}
    with pytest.raises(UsageError, match=r"mutation-equivalents.txt:2: 'a.b__mutmut_2' needs a reason after '#'"):
        read_equivalents("a.b__mutmut_1  # ok\na.b__mutmut_2\n")


def test_module_names_come_from_source_paths_only() -> None:
    assert module_name("components/sql.py") == "components.sql"
    assert module_name("policies/rules.py") == "policies.rules"
    with pytest.raises(UsageError, match="not a Python module of this repository"):
        module_name("components/nope.py")
    with pytest.raises(UsageError, match=r"only components/, envctl/ and policies/"):
        module_name("tests/support/checks.py")


def test_the_listed_equivalents_file_is_well_formed() -> None:
    from devtools.mutation import EQUIVALENTS

    read_equivalents(EQUIVALENTS.read_text())  # raises on a listed mutant without a reason


def test_timeouts_count_as_killed_and_unchecked_mutants_as_alive() -> None:
    listing = "    m.f__mutmut_1: timeout\n    m.f__mutmut_2: not checked\n    m.f__mutmut_3: killed\n"
    (row,) = tabulate(["m"], parse_results(listing), {})
    assert (row.mutants, row.killed, row.survived, row.unexplained) == (3, 2, 1, ("m.f__mutmut_2",))
    assert "| `m` | 3 | 2 (1 timeout) | 1 (1 not checked) | 1 | 66.7% |" in render_table([row])


def test_only_a_module_without_functions_may_have_no_mutants() -> None:
    from devtools.mutation import defines_functions

    assert defines_functions("policies/contracts/names.py")
    assert not defines_functions("components/__init__.py")  # empty: nothing for mutmut to mutate
