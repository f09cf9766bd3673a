"""The delivery count read from a JetStream ack subject agrees with nats-py's own parse, in both formats."""

from __future__ import annotations

import pytest
from nats.aio.msg import Msg

from stepdance.bus.transports.nats import _num_delivered

SUBJECTS = [
    "$JS.ACK.sd_orders.g-1.3.120.118.1795783432016000000.7",  # stream, consumer, delivered, ...
    "$JS.ACK._.ACCHASH.sd_orders.g-1.5.120.118.1795783432016000000.7.rnd",  # with domain and account hash
    "$JS.ACK.hub.ACCHASH.sd_orders.g-1.1.9.9.1795783432016000000.0.rnd",
]


@pytest.mark.parametrize("reply", SUBJECTS)
def test_the_delivery_count_is_read_as_nats_py_reads_it(reply: str) -> None:
    msg = Msg(_client=None, subject="sd.orders", reply=reply, data=b"")  # type: ignore[arg-type]
    assert _num_delivered(msg) == msg.metadata.num_delivered
