"""VISA instrument drivers (Pfeiffer TPG 36x, Keysight DAQ970A/34972A, MKS 937B): to come."""
