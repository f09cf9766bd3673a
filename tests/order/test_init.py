"""The package's public names: a guard against exporting by accident or losing one."""

from __future__ import annotations

import stepdance.order as order


def test_every_exported_name_exists_and_nothing_private_is_exported() -> None:
    for name in order.__all__:
        assert hasattr(order, name), name
        assert not name.startswith("_")
    assert sorted(order.__all__) == sorted(set(order.__all__))


def test_the_services_and_their_errors_are_exported() -> None:
    expected = {
        "Order",
        "Payment",
        "Inventory",
        "Notification",
        "Orders",
        "Faults",
        "FileChannel",
        "SmtpChannel",
        "PaymentDeclined",
        "OutOfStock",
        "TransientFailure",
        "ServiceDbError",
        "open_service_db",
        "decline_reason",
        "workload",
    }
    assert expected <= set(order.__all__)
