"""Named random streams.

Every stochastic process draws from its own numpy Generator, derived from
``SeedSequence(entropy=base_seed, spawn_key=(replication, STREAM_ID, *subkeys))``. The stream id
is a fixed integer per name, never a list position, so adding a stream or reordering code never
shifts the numbers another process sees, and replication r of every scenario shares its streams
(common random numbers).
"""

from __future__ import annotations

import zlib

import numpy as np

#: Fixed ids of the named streams. Never renumber; only append.
STREAM_IDS: dict[str, int] = {
    "arrival_times": 1,  # candidate arrival epochs of the thinning algorithm
    "arrival_thinning": 2,  # acceptance uniforms of the thinning algorithm
    "order": 3,  # per-order stream: attributes, office delays, visit outcomes, satisfaction
    "supplier_lead_times": 4,  # per supplier: purchase-order lead times
    "supplier_disruptions": 5,  # per supplier: disruption epochs and durations
    "expedite_lead_times": 6,  # per supplier: expedited purchase-order lead times
}


def name_key(name: str) -> int:
    """A stable integer for a name (supplier, SKU), so sub-streams do not depend on list order."""
    return zlib.crc32(name.encode("utf-8"))


class RandomStreams:
    """Factory of the named generators of one replication."""

    def __init__(self, base_seed: int, replication: int) -> None:
        if base_seed < 0 or replication < 0:
            raise ValueError(f"seed and replication must be >= 0, got {base_seed}, {replication}")
        self.base_seed = int(base_seed)
        self.replication = int(replication)

    def seed_sequence(self, name: str, *subkeys: int) -> np.random.SeedSequence:
        try:
            stream_id = STREAM_IDS[name]
        except KeyError:
            raise KeyError(f"unknown random stream {name!r}; known: {sorted(STREAM_IDS)}") from None
        return np.random.SeedSequence(
            entropy=self.base_seed, spawn_key=(self.replication, stream_id, *subkeys)
        )

    def generator(self, name: str, *subkeys: int) -> np.random.Generator:
        return np.random.Generator(np.random.PCG64(self.seed_sequence(name, *subkeys)))


class OrderStreams:
    """Per-order uniforms: every order has its own sub-stream, keyed by its identity.

    An order is identified by (arrival index, referral generation): the i-th arrival is (i, 0),
    the referral it brings is (i, 1), that one's referral (i, 2)... Its uniforms come from a
    counter-based generator (Philox) whose key is the replication's "order" stream and whose
    counter encodes the identity, so no order's numbers depend on when, or whether, any other
    order was drawn. First-hand orders arrive in index order, so their uniforms are drawn in
    blocks of ``BLOCK`` orders (one generator call for many orders: constructing a generator
    per order would cost more than simulating it).
    """

    BLOCK = 256
    #: counter word 3 marks what a counter is for, so the spaces never overlap
    _BLOCKS, _SINGLE, _EXTRA = 0, 1, 2

    def __init__(self, streams: RandomStreams, per_order: int) -> None:
        self.per_order = per_order
        self._key = streams.seed_sequence("order").generate_state(2, np.uint64)
        self._block_index = -1
        self._block: np.ndarray = np.empty((0, per_order))

    def _generator(self, a: int, b: int, purpose: int) -> np.random.Generator:
        return np.random.Generator(np.random.Philox(counter=[0, a, b, purpose], key=self._key))

    def uniforms(self, index: int, generation: int) -> np.ndarray:
        """The ``per_order`` uniforms of order (index, generation)."""
        if generation > 0:
            return self._generator(index, generation, self._SINGLE).random(self.per_order)
        block, row = divmod(index, self.BLOCK)
        if block != self._block_index:
            self._block = self._generator(block, 0, self._BLOCKS).random(
                (self.BLOCK, self.per_order)
            )
            self._block_index = block
        return self._block[row]

    def extra(self, index: int, generation: int) -> np.random.Generator:
        """A generator for the rare order that needs more draws than were pre-drawn."""
        return self._generator(index, generation, self._EXTRA)
