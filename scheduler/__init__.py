"""Deferred and recurring runs on APScheduler 3.11; the ``schedule`` table is the truth."""
