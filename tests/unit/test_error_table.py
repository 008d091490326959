"""Errors are answered by the nearest class on their MRO (one table), and database errors
are translated in the adapters, not at the HTTP edge."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from adapters.database import store_errors
from api.errors import ERRORS, Answer, ValidationFailed, answer_for
from application.errors import ServiceBusy
from domain import errors as d


class Special(d.InvalidLimits):
    pass


def test_a_subclass_gets_the_answer_of_its_nearest_mapped_ancestor() -> None:
    assert answer_for(Special("limits", "too big")) == Answer(422, "validation_error")
    assert answer_for(d.PaymentPending.__new__(d.PaymentPending)) == Answer(409, "payment_pending")


def test_a_row_of_its_own_beats_the_parents_wherever_it_is_in_the_table() -> None:
    class Parent(Exception):
        pass

    class Child(Parent):
        pass

    ERRORS[Child] = Answer(418, "child")
    ERRORS[Parent] = Answer(400, "parent")
    try:
        assert answer_for(Child()) == Answer(418, "child")
        assert answer_for(Parent()) == Answer(400, "parent")
    finally:
        del ERRORS[Child], ERRORS[Parent]


def test_an_unknown_error_has_no_answer_and_sqlalchemy_is_not_in_the_table() -> None:
    assert answer_for(KeyError("x")) is None
    assert answer_for(ValidationFailed("bad", param="x")) == Answer(422, "validation_error")
    assert not any(cls.__module__.startswith("sqlalchemy") for cls in ERRORS)
    assert answer_for(OperationalError("SELECT 1", {}, sqlite3.OperationalError("gone"))) is None


def test_the_adapters_translate_an_outage_and_let_a_constraint_through() -> None:
    with pytest.raises(ServiceBusy), store_errors():
        raise OperationalError("SELECT 1", {}, sqlite3.OperationalError("disk I/O error"))
    with pytest.raises(IntegrityError), store_errors():
        raise IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE"))
