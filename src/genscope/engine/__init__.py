"""Engines run the per-image half: ``worker.Processor`` is the pure per-batch function,
``local.LocalEngine`` schedules it over worker processes (a Ray engine can reuse it unchanged)."""
