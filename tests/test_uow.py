"""Unit of work: commit persists; leaving without commit, or with an exception, rolls back."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.db.models import Paper
from bot.db.uow import UnitOfWork
from tests.factories import make_paper


def count_papers(uow: UnitOfWork) -> int:
    with uow:
        return int(uow.session.scalar(select(func.count()).select_from(Paper)) or 0)


def test_commit_persists(uow: UnitOfWork) -> None:
    with uow:
        uow.session.add(make_paper("2510.10001"))
        uow.commit()
    assert count_papers(uow) == 1


def test_leaving_without_commit_rolls_back(uow: UnitOfWork) -> None:
    with uow:
        uow.session.add(make_paper("2510.10002"))
        uow.session.flush()  # the row reached the database inside the transaction
    assert count_papers(uow) == 0


def test_exception_rolls_back_and_propagates(uow: UnitOfWork) -> None:
    def use_case() -> None:
        with uow:
            uow.session.add(make_paper("2510.10003"))
            uow.session.flush()
            raise RuntimeError("failed half-way")

    with pytest.raises(RuntimeError, match="half-way"):
        use_case()
    assert count_papers(uow) == 0


def test_work_after_commit_without_second_commit_is_discarded(uow: UnitOfWork) -> None:
    with uow:
        uow.session.add(make_paper("2510.10004"))
        uow.commit()
        uow.session.add(make_paper("2510.10005"))
    with uow:
        assert uow.session.scalars(select(Paper.arxiv_id)).all() == ["2510.10004"]


def test_session_outside_block_is_an_error(uow: UnitOfWork) -> None:
    with pytest.raises(RuntimeError, match="outside"):
        _ = uow.session
