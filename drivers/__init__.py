"""Instrument drivers over VISA, the models they serve, and the roles the rig uses them in.

Importing the package loads every ``leakrig.instruments`` entry point (ours and plugins') into
:data:`drivers.models.MODELS`: whatever module of it is imported first, the models are there.
"""

from drivers.models import load_plugins

load_plugins()
