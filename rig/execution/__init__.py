"""Running a procedure: one function for ``rig run``, the planner and the tests.

:func:`rig.execution.execute.execute` runs a procedure on a bench reached through
:class:`rig.execution.bench_access.BenchAccess`; :class:`rig.execution.recorder.Recorder`
is the run record as an observer of the run's event stream. (Not imported here: a command
that only opens a bench need not load the engine.)
"""
