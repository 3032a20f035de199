"""Evidence checks: flags for reused photos, unchanged after-photos, wrong time or place, and rounds walked too
fast (docs/evidence.md)."""
