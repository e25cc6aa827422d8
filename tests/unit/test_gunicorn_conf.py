"""The production recipe's gunicorn settings (app/gunicorn_conf.py): once a worker has loaded the
app, its objects are frozen out of the collector's walks and the passes are made rarer."""

from __future__ import annotations

import gc

from app import gunicorn_conf


def test_a_loaded_worker_freezes_its_objects_and_collects_less_often():
    before = gc.get_threshold()
    try:
        gunicorn_conf.post_worker_init(worker=None)
        assert gc.get_threshold() == gunicorn_conf.GC_THRESHOLDS
        assert gc.get_freeze_count() > 0
        assert gunicorn_conf.GC_THRESHOLDS[0] > before[0]
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
