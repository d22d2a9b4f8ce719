from collections.abc import Iterator

import pytest

from sophia_platform.config import reset_config


@pytest.fixture(autouse=True)
def _fresh_default_config() -> Iterator[None]:
    # The process-wide default config is built from the environment on first use; start and
    # end every test without one so tests cannot see each other's layers.
    reset_config()
    yield
    reset_config()
