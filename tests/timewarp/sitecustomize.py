"""Loaded by every Python process the test suite starts (tests/conftest.py puts this folder on
PYTHONPATH when CREDITDESK_TEST_NOW is set): the child's clock follows the suite's, so a simulator or
a routine in a child process sees the same "today" as the test that started it.

The offset (fake instant minus real instant) is fixed when the session starts; both clocks tick, so
sleeps, timeouts and leases keep working.
"""

import os

_offset = os.environ.get("CREDITDESK_TEST_CLOCK_OFFSET")
if _offset:
    import time

    import time_machine

    time_machine.travel(time.time() + float(_offset), tick=True).start()
