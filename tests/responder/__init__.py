"""Tests of the responder: replies sent once through the fake platforms."""
