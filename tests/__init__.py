"""Soundcheck's tests; `tests.support` holds what more than one test module uses."""
