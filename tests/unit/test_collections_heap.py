"""A run keeps the process's older objects out of garbage collection while it sends (collections/heap.py)."""


def test_older_objects_are_frozen_only_while_a_run_sends():
    import gc

    from app.services.collections.heap import older_objects_frozen

    gc.unfreeze()
    with older_objects_frozen():
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0


def test_a_freeze_the_process_owns_is_neither_added_to_nor_undone_by_a_run():
    """A web worker froze its loaded app (app/gunicorn_conf.py); a run started there leaves it so."""
    import gc

    from app.services.collections.heap import older_objects_frozen

    gc.freeze()
    try:
        owned = gc.get_freeze_count()
        junk = [[] for _ in range(1000)]  # objects created after the owner's freeze
        with older_objects_frozen():
            assert gc.get_freeze_count() == owned  # the run's objects are not frozen on top
        assert gc.get_freeze_count() == owned  # and the owner's freeze survives the run's end
        del junk
    finally:
        gc.unfreeze()
