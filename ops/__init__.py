"""Operating an installation: backups and restores (`fieldwork backup|restore`)."""
