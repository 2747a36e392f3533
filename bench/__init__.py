"""Benchmarks: ``python -m bench`` runs them all, prints a table and writes JSON.

Every number is a ratio against a baseline measured in the same process (absolute times on a
shared machine drift). Benchmarks report; they never fail on a number.
"""
