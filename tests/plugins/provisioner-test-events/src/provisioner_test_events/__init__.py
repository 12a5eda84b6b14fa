"""Test plugins: an event declared by one plugin and consumed by another."""
