"""`python -m tests.operations.rollout_b_worker`: build B of the rollout drill. The production
worker (worker.py's main: settings, signals, graceful shutdown) with the drill's patched
workflow definitions registered in place of today's. Nothing in production code knows of it."""

from __future__ import annotations

import worker
from tests.operations.rollout_b import SWAPS

if __name__ == "__main__":
    worker.WORKFLOWS[:] = [SWAPS.get(defn, defn) for defn in worker.WORKFLOWS]
    worker.main()
