"""The lab store: sealed run records of every bench, gathered in one PostgreSQL database.

One module per concept: :mod:`~rig.store.connection` (the URL and the connection, every failure
one line), :mod:`~rig.store.schema` (the versioned schema and its migrations),
:mod:`~rig.store.snapshot` (a local run record read and verified, as it is stored),
:mod:`~rig.store.push`, :mod:`~rig.store.pull` and :mod:`~rig.store.query` (listing, searching
and a measurement's history, :class:`~rig.store.query.StoreHistory`).
"""
