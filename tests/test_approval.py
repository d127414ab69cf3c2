"""The platform-free parts of approval: button values, the per-month publish gate, stale clicks."""

from __future__ import annotations

import pytest

from bot.delivery import ChannelOutcome, ChannelRef, DeliveryReport
from bot.scheduler.approval import PublishGate, already_delivered, approve_value, parse_approve_value


@pytest.mark.parametrize("month", ["2026-10", "1991-01", "2100-12"])
def test_a_button_value_round_trips(month: str) -> None:
    assert parse_approve_value(approve_value(month)) == month


@pytest.mark.parametrize(
    "value",
    [
        "",
        "2026-13",
        "2026-00",
        "1990-12",
        "2026/10",
        "2026-10; DROP TABLE digests",
        "🚀",
        "x" * 5000,
        None,
        202610,
    ],
)
def test_anything_else_is_not_a_month(value: object) -> None:
    assert parse_approve_value(value) is None


def test_the_gate_lets_one_approval_of_a_month_run_at_a_time() -> None:
    gate = PublishGate()
    with gate.claim("2026-10", "<@UA>") as first:
        assert first is True
        with gate.claim("2026-10", "<@UB>") as second:
            assert second is False
            assert gate.holder("2026-10") == "<@UA>"  # the loser did not take it over
        with gate.claim("2026-09", "<@UB>") as other_month:
            assert other_month is True
    assert gate.holder("2026-10") is None


def test_the_gate_is_released_when_publishing_fails() -> None:
    gate = PublishGate()
    with pytest.raises(RuntimeError), gate.claim("2026-10", "<@UA>"):
        raise RuntimeError("the platform went away")
    with gate.claim("2026-10", "<@UB>") as again:
        assert again is True


def _outcome(status: str) -> ChannelOutcome:
    return ChannelOutcome(ChannelRef("slack", "T1", "C1", "text"), status, 0, 0)


def test_already_delivered_only_when_every_channel_was_already_posted() -> None:
    assert already_delivered(DeliveryReport("2026-10", (_outcome("skipped"), _outcome("skipped"))))
    assert not already_delivered(DeliveryReport("2026-10", (_outcome("skipped"), _outcome("done"))))
    assert not already_delivered(DeliveryReport("2026-10", (_outcome("busy"),)))
    assert not already_delivered(DeliveryReport("2026-10", ()))  # nobody subscribed: a real publish
