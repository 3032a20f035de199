"""Schedules: recurrence rules in a property's time zone that the worker turns into rounds, survey campaigns and
owner meetings, one occurrence at a time."""
