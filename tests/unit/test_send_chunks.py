"""How the collections routine splits its groups among the send workers."""

import pytest

from app.services.collections.dispatch import SEND_CHUNK, _chunks


@pytest.mark.parametrize("groups,workers", [(0, 16), (1, 16), (7, 16), (136, 16), (2000, 16), (20000, 16), (5, 1)])
def test_every_group_once_in_order(groups, workers):
    items = list(range(groups))
    chunks = _chunks(items, workers)
    assert [g for c in chunks for g in c] == items
    assert all(0 < len(c) <= SEND_CHUNK for c in chunks)


def test_first_chunks_are_staggered_so_workers_do_not_write_together():
    # Workers paced by one bucket finish equal chunks together and would then all write their next
    # chunk at once with the bureau idle; the first chunk of worker k holds k+1 groups.
    chunks = _chunks(list(range(2000)), 16)
    assert [len(c) for c in chunks[:16]] == list(range(1, 17))
    assert {len(c) for c in chunks[16:-1]} == {32}  # ceil(2000 / (4 x 16)) per chunk afterwards
