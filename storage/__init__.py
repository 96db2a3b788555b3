"""Persistence: the engine, the models, one repository module per aggregate, migrations and reference data."""
