"""Shared test data for the crypto package: keys are costly enough to make once per run."""

from __future__ import annotations

import pytest

from crypto.keys import PrivateKey, SuiteId

ALL_SUITES = list(SuiteId)


@pytest.fixture(scope="session")
def key_pool() -> dict[SuiteId, list[PrivateKey]]:
    """Six private keys per suite, shared by tests that only need distinct recipients."""
    return {suite: [PrivateKey.generate(suite) for _ in range(6)] for suite in SuiteId}
