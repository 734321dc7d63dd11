"""The gateway process's garbage-collector settings (see server.freeze_startup_heap)."""

import gc

from llmaz_serverless.gateway.server import YOUNG_GC_THRESHOLD, freeze_startup_heap


def test_startup_heap_frozen_and_young_threshold_raised_keeping_older_ones():
    before = gc.get_threshold()
    try:
        freeze_startup_heap()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (YOUNG_GC_THRESHOLD, before[1], before[2])
        assert before[0] < YOUNG_GC_THRESHOLD
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
