from tests.bus.transports.backends import clean_shared_servers, kind, names, transport, transport_url

__all__ = ["clean_shared_servers", "kind", "names", "transport", "transport_url"]
