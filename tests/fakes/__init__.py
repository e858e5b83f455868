"""Fake platform servers for tests: real HTTP on 127.0.0.1, shaped like the real APIs."""
