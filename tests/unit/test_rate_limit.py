import threading

from app.services.core.rate_limit import PacedBureau, TokenBucket


class FakeClock:
    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def test_bucket_paces_calls_to_the_rate():
    clock = FakeClock()
    bucket = TokenBucket(10, burst=1, clock=clock, sleep=clock.sleep)
    for _ in range(11):
        bucket.acquire()
    # 1 from the burst, then 10 more at 10/s, one sleep each
    assert abs(clock.now - 1.0) < 1e-9
    assert len(clock.sleeps) == 10


def test_paced_bureau_takes_a_token_per_call():
    clock = FakeClock()
    bucket = TokenBucket(2, burst=1, clock=clock, sleep=clock.sleep)

    class B:
        name = "x"

        def consult(self, d):
            return d

    paced = PacedBureau(B(), bucket)
    assert [paced.consult(i) for i in range(3)] == [0, 1, 2]
    assert paced.name == "x"
    assert abs(clock.now - 1.0) < 1e-9  # calls 2 and 3 waited 0.5 s each


def test_bucket_burst_then_refill():
    clock = FakeClock()
    bucket = TokenBucket(100, clock=clock, sleep=clock.sleep)  # burst 10
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

    bucket = TokenBucket(10, burst=1, clock=clock, sleep=sleep)
    threads = [threading.Thread(target=bucket.acquire) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(waits) == [0.1, 0.2, 0.3, 0.4]
