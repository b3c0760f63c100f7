"""Shared fixtures: the fakes on loopback, a temporary data directory."""
