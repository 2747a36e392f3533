"""Fixtures for the tests of deploy/serve.sh: the proxy with two replicas, and Chromium."""

import pytest

from tests.browser.conftest import browser, page  # noqa: F401  (fixtures shared with the browser tests)

from .proxy import HAPROXY, Served

needs_haproxy = pytest.mark.skipif(
    HAPROXY is None, reason="no haproxy: install Debian's haproxy package (apt-get install haproxy)"
)


@pytest.fixture(scope="module")
def proxy():
    """``deploy/serve.sh --replicas 2`` on a free port, for the module."""
    served = Served(2)
    yield served
    served.stop()
