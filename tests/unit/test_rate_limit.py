from app.services.core.rate_limit import PacedBureau, TokenBucket


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_bucket_paces_calls_to_the_rate():
    clock = FakeClock()
    bucket = TokenBucket(10, burst=1, clock=clock, sleep=clock.sleep)
    for _ in range(11):
        bucket.acquire()
    # 1 from the burst, then 10 more at 10/s
    assert abs(clock.now - 1.0) < 1e-9


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
