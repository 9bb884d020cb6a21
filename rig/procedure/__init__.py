"""Leak-test procedures: the YAML language, its schema and strict validation."""
