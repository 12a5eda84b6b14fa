"""Helpers shared by the test suites of every distribution (servers, stack trees)."""
