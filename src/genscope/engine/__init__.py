"""Engines run the per-image half. ``base`` is the contract and the registry (``local``, ``ray``);
``worker.Processor`` is the pure per-batch function, ``pool`` the process pool with per-file
deadlines, ``unit`` one work unit's resume, sink and finish, ``driver`` the run as the driver sees it."""

from genscope.engine.base import EngineOptions

__all__ = ["EngineOptions"]
