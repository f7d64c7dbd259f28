"""The key-prefix filter answers exactly like a set (it is exact, not probabilistic)."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from concord.ingest.keyfilter import MAX_CHUNKS, KeyFilter

u64 = st.integers(min_value=0, max_value=2**64 - 1)


@given(st.lists(st.lists(u64, max_size=40), max_size=MAX_CHUNKS * 3), st.lists(u64, max_size=60))
def test_behaves_like_a_set(batches: list[list[int]], probes: list[int]) -> None:
    keys = KeyFilter()
    seen: set[int] = set()
    for batch in batches:
        keys.add(np.array(batch, dtype=np.uint64))
        seen.update(batch)
    everything = probes + sorted(seen)[:20]
    answer = keys.contains(np.array(everything, dtype=np.uint64))
    assert answer.tolist() == [value in seen for value in everything]
    assert len(keys) == sum(len(b) for b in batches)


def test_empty_filter_contains_nothing() -> None:
    assert KeyFilter().contains(np.array([0, 2**64 - 1], dtype=np.uint64)).tolist() == [
        False,
        False,
    ]
