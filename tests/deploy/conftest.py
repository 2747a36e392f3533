"""Fixtures for the tests of deploy/serve.sh: the proxy with two replicas. (The browser through the
proxy is in tests/browser/test_through_proxy.py, beside the browser fixtures: two Playwright sessions
cannot run in one thread.)"""

import pytest

from .proxy import Served


@pytest.fixture(scope="module")
def proxy():
    """``deploy/serve.sh --replicas 2`` on a free port, for the module."""
    served = Served(2)
    yield served
    served.stop()
