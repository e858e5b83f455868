"""Fault runs and the end-to-end benchmark in miniature: exactly-once and no crash, no timing asserted."""
