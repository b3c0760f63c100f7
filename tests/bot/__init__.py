"""Tests of the platform-neutral chat layer."""
