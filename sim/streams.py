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
