"""The composition root's helper: which domains make up the system (domains.py), and the services built from the
settings once, for the API, the workers and the CLI alike (services.py)."""
