import threading

from app.services.collections.pacing import SlotBucket


class FakeClock:
    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def test_slot_bucket_paces_calls_to_the_rate():
    clock = FakeClock()
    bucket = SlotBucket(10, burst=1, clock=clock, sleep=clock.sleep)
    for _ in range(11):
        bucket.acquire()
    # 1 from the burst, then 10 more at 10/s, one sleep each
    assert abs(clock.now - 1.0) < 1e-9
    assert len(clock.sleeps) == 10


def test_slot_bucket_burst_then_refill():
    clock = FakeClock()
    bucket = SlotBucket(100, clock=clock, sleep=clock.sleep)  # burst 10
    for _ in range(10):
        bucket.acquire()
    assert clock.sleeps == []
    clock.now += 0.05  # 5 tokens back
    for _ in range(5):
        bucket.acquire()
    assert clock.sleeps == []
    bucket.acquire()
    assert abs(clock.sleeps[-1] - 0.01) < 1e-9


def test_waiting_threads_get_consecutive_slots_and_sleep_once():
    # Threads that arrive together each reserve the next slot: the k-th waits k / rate, once.
    clock = FakeClock()
    waits = []
    lock = threading.Lock()

    def sleep(seconds):
        with lock:
            waits.append(round(seconds, 9))

    bucket = SlotBucket(10, burst=1, clock=clock, sleep=sleep)
    threads = [threading.Thread(target=bucket.acquire) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(waits) == [0.1, 0.2, 0.3, 0.4]


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
