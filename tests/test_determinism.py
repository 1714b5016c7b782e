"""Same inputs and seed give the same bytes, for any number of workers."""
import numpy as np
import pytest

import mcsim
from mcsim import layout as lay
from mcsim.engine import BLOCK_TRIALS


def fingerprint(result):
    """Every number a result holds, as bytes (wall time and provenance excluded)."""
    parts = [np.array([result.counters[c] for c in lay.COUNTERS], dtype=np.int64).tobytes()]
    for m in lay.METRICS:
        h = result[m]
        parts += [h.counts.tobytes(), h.yy.tobytes(), h.yn.tobytes(),
                  np.array([h.scalars()[k] for k in sorted(h.scalars())]).tobytes()]
    return b"".join(parts)


@pytest.mark.parametrize("params", [{}, {"era": "5.11+", "policy": "upstream-5.1",
                                         "wake": "10us", "evict_rate": 20.0}])
def test_workers_do_not_change_results(params):
    trials = 2 * BLOCK_TRIALS + 777                  # three blocks, the last one partial
    one = mcsim.simulate(params, trials=trials, seed=123, workers=1)
    for workers in (2, 3):
        assert fingerprint(mcsim.simulate(params, trials=trials, seed=123,
                                          workers=workers)) == fingerprint(one)
    assert fingerprint(mcsim.simulate(params, trials=trials, seed=124)) != fingerprint(one)


def test_same_seed_same_bytes_twice():
    a = mcsim.simulate(trials=30_000, seed=5)
    b = mcsim.simulate(trials=30_000, seed=5)
    assert fingerprint(a) == fingerprint(b)


def test_result_table_has_parameters_and_statistics():
    r = mcsim.simulate(trials=20_000, seed=1, policy="rfc-v2")
    table = r.to_arrow()
    assert table.num_rows == 1
    row = table.to_pylist()[0]
    assert row["policy"] == "rfc-v2" and row["seed"] == 1 and row["trials"] == 20_000
    assert row["hp_wait_p99_ns"] == r["hp_wait"].quantile(0.99)
    assert row["hp_wait_n"] == r["hp_wait"].n > 0
