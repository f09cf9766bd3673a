"""The order saga's three designs over the same services: ``orchestrated`` (the engine runs an ASL
definition), ``choreographed`` (the services react to events on the bus) and ``hybrid`` (the engine runs
payment and inventory and publishes the outcome; notification reacts on the bus).

Each design is a :class:`~stepdance.order.designs.base.Design`: ``start()``, ``place(order)`` (the order is
pending in the orders view when it returns), ``stop()``. Whether an order ended is read from the orders
view, which every design keeps.
"""
