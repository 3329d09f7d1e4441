"""Shared pieces of the system tests (a regular package, so that no other `helpers` on the
path can shadow it)."""
