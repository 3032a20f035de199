"""Notifications: an outbox written with the change that causes it, delivered once per channel by the worker
to each recipient's inbox (synced to their phones) and to the org's webhooks (signed HTTP POSTs)."""
