"""The worker caps the encoder's BLAS pool (LEAKWATCH_CLASSIFIER_BLAS_THREADS)."""

import numpy as np
from threadpoolctl import threadpool_info

from leakwatch.classifier.encoder import limit_blas_threads


def _blas_threads() -> set[int]:
    return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}


def test_the_blas_pool_is_capped_and_can_be_restored():
    np.ones((64, 64)) @ np.ones((64, 64))  # numpy's BLAS is loaded
    before = _blas_threads()
    assert before, "numpy's BLAS is not visible to threadpoolctl"
    handle = limit_blas_threads(1)
    try:
        assert _blas_threads() == {1}
    finally:
        handle.restore_original_limits()
    assert _blas_threads() == before
