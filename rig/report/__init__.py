"""Reports: plots and, later, signed certificates."""
