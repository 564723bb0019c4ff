"""Calibration from historical exports (history schema, loaders, fitting, back-test).

Not built yet: issue 4 fills this package. It exists now so the distribution ships both
packages from the start.
"""
