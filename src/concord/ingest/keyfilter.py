"""A compact set of 64-bit key prefixes: "may this import have stored this key already?"

Why not a Python set: at ~60 bytes an entry, five million keys cost ~300 MB, most of an
import's memory. Sorted NumPy chunks cost 8 bytes an entry and answer a batch of look-ups with
one vectorised binary search per chunk; chunks are merged as they accumulate so there are
never more than a handful to search.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

#: Merge every chunk into one when there are more than this many (each merge is one sort).
MAX_CHUNKS = 8

Prefixes = npt.NDArray[np.uint64]


class KeyFilter:
    def __init__(self) -> None:
        self._chunks: list[Prefixes] = []

    def __len__(self) -> int:
        return sum(len(c) for c in self._chunks)

    def add(self, values: Prefixes) -> None:
        if len(values) == 0:
            return
        self._chunks.append(np.sort(np.asarray(values, dtype=np.uint64)))
        if len(self._chunks) > MAX_CHUNKS:
            self._chunks = [np.sort(np.concatenate(self._chunks))]

    def contains(self, values: Prefixes) -> npt.NDArray[np.bool_]:
        """For each value: was it added before?"""
        values = np.asarray(values, dtype=np.uint64)
        found = np.zeros(len(values), dtype=bool)
        for chunk in self._chunks:
            index = np.searchsorted(chunk, values)
            inside = index < len(chunk)
            found[inside] |= chunk[index[inside]] == values[inside]
        return found
