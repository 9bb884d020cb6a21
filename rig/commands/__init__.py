"""Subcommands of ``rig``: each module registers its parser and handles its arguments."""
