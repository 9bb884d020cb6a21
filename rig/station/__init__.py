"""The operator station: ``rig station`` serves one bench's live page, its runs and their records.

The station is an observer of a run's one event stream (:mod:`rig.station.feed`), runs
procedures through the same :func:`rig.commands.run.launch` as ``rig run``, and reads records
through :mod:`rig.record` as ``rig runs`` does. Starlette serves it (uvicorn), pushed updates go
by server-sent events, and the page's chart library (uPlot) is served from the package: a
bench may be offline.
"""
