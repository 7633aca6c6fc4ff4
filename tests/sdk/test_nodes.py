"""Nodes through the SDK: a worker daemon on 127.0.0.2 joins the session's
manager with the worker token; list, inspect, update (availability, labels,
the role staying what it is), leave and remove."""

import docker
import pytest

import rswarm_sdk as rs


def ready_nodes(api):
    return [n for n in api.nodes() if n["Status"]["State"] == "ready"]


@pytest.fixture(scope="module")
def worker(manager, module_daemon_factory):
    """A second daemon joined as a worker (after a rotation, with the new
    token: the old one is refused)."""
    api = manager.api()
    w = module_daemon_factory("sdk-worker")
    wclient = w.client()
    old = api.inspect_swarm()["JoinTokens"]["Worker"]
    s = api.inspect_swarm()
    api.update_swarm(version=s["Version"]["Index"], swarm_spec=s["Spec"], rotate_worker_token=True)
    new = api.inspect_swarm()["JoinTokens"]["Worker"]
    assert new != old
    with pytest.raises(docker.errors.APIError) as e:
        wclient.swarm.join(
            remote_addrs=[manager.swarm_addr],
            join_token=old,
            listen_addr=f"127.0.0.2:{rs.free_port('127.0.0.2')}",
            advertise_addr="127.0.0.2",
        )
    status, message = rs.api_error(e)
    assert status == 400 and "token" in message.lower(), (status, message)
    assert wclient.info()["Swarm"]["LocalNodeState"] == "inactive"

    assert wclient.swarm.join(
        remote_addrs=[manager.swarm_addr],
        join_token=new,
        listen_addr=f"127.0.0.2:{rs.free_port('127.0.0.2')}",
        advertise_addr="127.0.0.2",
    ) is True
    w.node_id = w.remember_node()
    rs.wait_until("2 ready nodes", lambda: len(ready_nodes(api)) == 2)
    yield w
    # whatever a test left: the worker leaves and its node is removed
    try:
        wclient.swarm.leave(force=True)
    except Exception:
        pass
    try:
        api.remove_node(w.node_id, force=True)
    except docker.errors.NotFound:
        pass
    for sid in [s["ID"] for s in api.services()]:
        api.remove_service(sid)


def test_worker_joined(manager, worker, api):
    info = worker.client().info()["Swarm"]
    assert info["LocalNodeState"] == "active", info
    assert info["ControlAvailable"] is False, info
    assert info["NodeID"] == worker.node_id
    assert info["NodeAddr"] == "127.0.0.2", info
    # a worker cannot read cluster state
    with pytest.raises(docker.errors.APIError) as e:
        worker.api().nodes()
    status, message = rs.api_error(e)
    assert status == 503 and "Worker nodes can't be used" in message, (status, message)


def test_nodes_list_and_inspect(manager, worker, api, client):
    nodes = api.nodes()
    assert sorted(n["Description"]["Hostname"] for n in nodes) == ["sdk-manager", "sdk-worker"]
    m_id = manager.remember_node()
    managers = api.nodes(filters={"role": "manager"})
    workers = api.nodes(filters={"role": "worker"})
    assert [n["ID"] for n in managers] == [m_id]
    assert [n["ID"] for n in workers] == [worker.node_id]

    w = api.inspect_node(worker.node_id)
    rs.assert_paths(
        w,
        {
            "ID": worker.node_id,
            "Spec.Role": "worker",
            "Spec.Availability": "active",
            "Status.State": "ready",
            "Status.Addr": "127.0.0.2",
            "Description.Hostname": "sdk-worker",
        },
        "worker node",
    )
    assert "ManagerStatus" not in w or w["ManagerStatus"] is None, w.get("ManagerStatus")
    assert w["Version"]["Index"] >= 1

    m = client.nodes.get(m_id)
    assert m.id == m_id and m.version == m.attrs["Version"]["Index"]
    rs.assert_paths(
        m.attrs,
        {
            "Spec.Role": "manager",
            "ManagerStatus.Leader": True,
            "ManagerStatus.Reachability": "reachable",
            "ManagerStatus.Addr": manager.swarm_addr,
        },
        "manager node",
    )
    assert sorted(n.id for n in client.nodes.list()) == sorted([m_id, worker.node_id])
    assert [n.id for n in client.nodes.list(filters={"name": "sdk-worker"})] == [worker.node_id]
    # by hostname, like the CLI
    assert api.inspect_node("sdk-worker")["ID"] == worker.node_id
    with pytest.raises(docker.errors.NotFound) as e:
        api.inspect_node("nosuchnode")
    assert "node nosuchnode not found" in rs.api_error(e)[1]


def test_node_update_availability_and_labels(manager, worker, api, client):
    node = client.nodes.get(worker.node_id)
    # a label puts a service's task on the worker
    assert node.update({"Availability": "active", "Role": "worker", "Labels": {"zone": "b"}}) is True
    node.reload()
    rs.assert_paths(
        node.attrs,
        {"Spec.Availability": "active", "Spec.Role": "worker", "Spec.Labels": {"zone": "b"}},
        "worker node",
    )
    svc = client.services.create(
        "busybox",
        ["busybox", "sh", "-c", "echo on-zone-b; sleep 1000"],
        name="sdk-zoned",
        constraints=["node.labels.zone==b"],
        # a plain dict with Docker's own key casing (ServiceMode's lower-case
        # key is covered by the service tests)
        mode={"Replicated": {"Replicas": 2}},
        stop_grace_period=1 * rs.SECOND,
    )
    tasks = rs.wait_running(api, svc.id, 2)
    assert {t["NodeID"] for t in tasks} == {worker.node_id}, tasks

    # drain: the role stays worker, the labels as sent, the tasks leave it and
    # wait (nothing else matches the constraint)
    node.reload()
    assert node.update({"Availability": "drain", "Role": "worker", "Labels": {"zone": "b"}}) is True
    node.reload()
    rs.assert_paths(
        node.attrs,
        {"Spec.Availability": "drain", "Spec.Role": "worker", "Spec.Labels": {"zone": "b"}},
        "worker node",
    )
    rs.wait_until("drained tasks stop", lambda: not rs.running_tasks(api, svc.id) and not rs.service_pids(svc.id))

    # low-level update: pause, labels replaced
    v = api.inspect_node(worker.node_id)["Version"]["Index"]
    assert api.update_node(
        worker.node_id, v, {"Availability": "pause", "Role": "worker", "Labels": {"zone": "b", "disk": "ssd"}}
    ) is True
    rs.assert_paths(
        api.inspect_node(worker.node_id),
        {"Spec.Availability": "pause", "Spec.Role": "worker", "Spec.Labels": {"zone": "b", "disk": "ssd"}},
        "worker node",
    )
    assert not rs.running_tasks(api, svc.id)

    # active again: the tasks come back on it
    v = api.inspect_node(worker.node_id)["Version"]["Index"]
    api.update_node(worker.node_id, v, {"Availability": "active", "Role": "worker", "Labels": {"zone": "b"}})
    tasks = rs.wait_running(api, svc.id, 2)
    assert {t["NodeID"] for t in tasks} == {worker.node_id}

    # the manager's spec: labels change, the role stays manager
    m_id = manager.remember_node()
    m = api.inspect_node(m_id)
    api.update_node(m_id, m["Version"]["Index"], {"Availability": "active", "Role": "manager", "Labels": {"tier": "ctl"}})
    m2 = api.inspect_node(m_id)
    rs.assert_paths(
        m2,
        {"Spec.Role": "manager", "Spec.Availability": "active", "Spec.Labels": {"tier": "ctl"}, "ManagerStatus.Leader": True},
        "manager node",
    )
    # a stale version is refused
    with pytest.raises(docker.errors.APIError) as e:
        api.update_node(m_id, m["Version"]["Index"], {"Availability": "drain", "Role": "manager"})
    assert "update out of sequence" in rs.api_error(e)[1]
    assert api.inspect_node(m_id)["Spec"]["Availability"] == "active"
    svc.remove()
    rs.wait_no_processes(svc.id)


def test_worker_leaves_and_is_removed(manager, worker, api, client):
    # a ready node is not removed without force
    with pytest.raises(docker.errors.APIError) as e:
        api.remove_node(worker.node_id)
    status, message = rs.api_error(e)
    assert status == 400 and "is not down and can't be removed" in message, (status, message)
    assert worker.node_id in [n["ID"] for n in api.nodes()]

    assert worker.client().swarm.leave() is True
    assert worker.client().info()["Swarm"]["LocalNodeState"] == "inactive"
    rs.wait_until(
        "the worker is down",
        lambda: api.inspect_node(worker.node_id)["Status"]["State"] == "down",
        timeout=45,  # three missed 5 s heartbeats
    )
    node = client.nodes.get(worker.node_id)
    assert node.remove() is True
    assert worker.node_id not in [n["ID"] for n in api.nodes()]
    with pytest.raises(docker.errors.NotFound):
        api.inspect_node(worker.node_id)
