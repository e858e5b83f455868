"""Tests for monitor.triage: signals, labels, urgency, the learned model and evaluation."""
