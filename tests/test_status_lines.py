"""``status --json``'s disputes built by SQLite (ledger/status_lines.py): its SQL functions
are the domain's rules, spelt for speed; each must give what the rule gives. (That every line
equals what jsonshape makes of the dispute computed in full is ``tests/index_oracle.py``'s.)"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from refundctl.ledger import status_lines
from refundctl.money import from_minor, to_json
from tests.test_money import currencies


@given(st.integers(min_value=-(10**15), max_value=10**15), currencies)
def test_money_in_integers_is_the_json_of_the_decimal(minor: int, currency: str) -> None:
    assert status_lines._money(minor, currency) == to_json(from_minor(minor, currency))


def test_no_money_is_null() -> None:
    assert status_lines._money(None, "USD") is None
