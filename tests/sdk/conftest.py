"""Fixtures: private rswarm daemons driven by the Python Docker SDK.

- `manager`: one daemon for the whole session, a swarm initialised on
  127.0.0.1 (free swarm port) through the SDK;
- `api` / `client`: the low-level `APIClient` and high-level `DockerClient`
  on it; services left by a test are removed after it;
- `daemon_factory`: more daemons (fresh swarms, workers on 127.0.0.2),
  stopped at the end of the test or module that asked for them.

Daemons are stopped by PID (SIGTERM, then SIGKILL) and their temp dirs
removed. When a test fails, the SDK's requests and rswarm's answers during
that test are printed under "rswarm exchanges".
"""

import pytest

import rswarm_sdk as rs


@pytest.fixture(scope="session")
def manager():
    d = rs.Daemon("sdk-manager").start()
    try:
        d.swarm_addr = f"127.0.0.1:{rs.free_port()}"
        d.api().init_swarm(advertise_addr="127.0.0.1", listen_addr=d.swarm_addr)
        d.remember_node()
        yield d
    finally:
        d.stop()


@pytest.fixture
def api(manager):
    c = manager.api()
    yield c
    _remove_services(c)
    c.close()


@pytest.fixture
def client(manager, api):
    c = manager.client()
    yield c
    c.close()


def _remove_services(api):
    """Removes every service left on the manager and waits for their task
    processes to go, so tests do not see each other's tasks."""
    try:
        ids = [s["ID"] for s in api.services()]
    except Exception:
        return
    for sid in ids:
        try:
            api.remove_service(sid)
        except Exception:
            pass
    for sid in ids:
        rs.wait_until(f"processes of removed service {sid} exit", lambda: not rs.service_pids(sid))


class _Factory:
    def __init__(self):
        self.daemons = []

    def __call__(self, hostname):
        d = rs.Daemon(hostname)
        self.daemons.append(d)
        return d.start()

    def stop_all(self):
        for d in reversed(self.daemons):
            d.stop()


@pytest.fixture
def daemon_factory():
    f = _Factory()
    yield f
    f.stop_all()


@pytest.fixture(scope="module")
def module_daemon_factory():
    f = _Factory()
    yield f
    f.stop_all()


@pytest.fixture(autouse=True)
def _exchanges():
    rs.EXCHANGES.clear()
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed and rs.EXCHANGES:
        rep.sections.append((f"rswarm exchanges ({rep.when})", rs.format_exchanges()))
