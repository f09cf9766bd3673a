"""The choreography runtime: an EventBridge-style event bus.

``stepdance.bus.patterns`` is its pure core, the event-pattern language (compile, match, index many rules).
"""
