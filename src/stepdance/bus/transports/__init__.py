"""Message transports behind one small interface: embedded SQLite, NATS JetStream, Redis Streams, RabbitMQ.

``open_transport(url)`` picks one by URL scheme (``sqlite:///path``, ``nats://``, ``redis://``, ``amqp://``).
"""

from stepdance.bus.transports.base import Delivery, Message, Subscription, Transport, TransportError
from stepdance.bus.transports.factory import open_transport

__all__ = ["Delivery", "Message", "Subscription", "Transport", "TransportError", "open_transport"]
