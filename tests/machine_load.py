"""How busy the machine is, for the limits tests put on time: a limit that holds on a quiet
machine must hold, scaled, on a busy one (other engineers' jobs, the other test workers)."""

from __future__ import annotations

import os
import time

from dashboard import config

# A quiet core does this fixed piece of work in about this long (measured on the 2-core
# machine the suite is run on, alone).
CALIBRATION_SECONDS = 0.015


def machine_slowness() -> float:
    """How much slower than a quiet machine this one is now: the fixed work's wall time
    against its quiet time, the run queue per core (other engineers' jobs) or the test
    workers per core, from 1 to 10; O2R_TEST_SLOWNESS sets it outright."""
    chosen = config.setting("O2R_TEST_SLOWNESS")
    if chosen:
        return chosen
    start = time.perf_counter()
    sum(i * i for i in range(300_000))
    measured = (time.perf_counter() - start) / CALIBRATION_SECONDS
    cores = os.cpu_count() or 1
    queue = os.getloadavg()[0] / cores
    # Measured as a worker starts, before the others are busy: a browser test's server and
    # Chromium share the cores with every other pytest-xdist worker's tests from then on.
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    shared = 2.0 * workers / cores if workers > 1 else 1.0
    return min(10.0, max(1.0, measured, queue, shared))


SLOWNESS = machine_slowness()
