"""Reading what the running system recorded, for people: an order's trace as a timeline (``stepdance trace``),
and, for the diagrams and the report, the spans of a run."""

from stepdance.observe.traces import OrderTrace, SpanRow, order_traces

__all__ = ["OrderTrace", "SpanRow", "order_traces"]
