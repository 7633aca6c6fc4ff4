"""Swarm init / inspect / update / leave and join tokens through the SDK,
on fresh daemons (the low-level APIClient and the DockerClient model)."""

import docker
import pytest

import rswarm_sdk as rs
from rswarm_sdk import SECOND


def test_init_with_spec_via_model_then_inspect(daemon_factory):
    d = daemon_factory("sdk-init")
    client = d.client()
    port = rs.free_port()
    # The SDK sends every Raft field, the unset ones as null (Go: zero value,
    # so swarmkit keeps its default).
    node_id = client.swarm.init(
        advertise_addr="127.0.0.1",
        listen_addr=f"127.0.0.1:{port}",
        default_addr_pool=["10.20.0.0/16"],
        subnet_size=26,
        data_path_port=4790,
        task_history_retention_limit=7,
        snapshot_interval=5000,
        log_entries_for_slow_followers=1200,
        dispatcher_heartbeat_period=4 * SECOND,
        node_cert_expiry=48 * 3600 * SECOND,
        name="default",
        labels={"team": "sdk"},
    )
    d.remember_node()
    assert isinstance(node_id, str) and len(node_id) == 25, node_id
    s = client.swarm.attrs
    assert s["ID"] and s["Version"]["Index"] >= 1, s
    rs.assert_paths(
        s,
        {
            "Spec.Name": "default",
            "Spec.Labels": {"team": "sdk"},
            "Spec.Orchestration.TaskHistoryRetentionLimit": 7,
            "Spec.Raft.SnapshotInterval": 5000,
            "Spec.Raft.LogEntriesForSlowFollowers": 1200,
            # sent as null: swarmkit's defaults
            "Spec.Raft.KeepOldSnapshots": 0,
            "Spec.Raft.HeartbeatTick": 1,
            "Spec.Raft.ElectionTick": 10,
            "Spec.Dispatcher.HeartbeatPeriod": 4 * SECOND,
            "Spec.CAConfig.NodeCertExpiry": 48 * 3600 * SECOND,
            "DefaultAddrPool": ["10.20.0.0/16"],
            "SubnetSize": 26,
            "DataPathPort": 4790,
        },
        "swarm",
    )
    tokens = s["JoinTokens"]
    assert tokens["Worker"].startswith("SWMTKN-1-"), tokens
    assert tokens["Manager"].startswith("SWMTKN-1-"), tokens
    assert tokens["Worker"] != tokens["Manager"]
    info = client.info()["Swarm"]
    assert (info["LocalNodeState"], info["NodeID"], info["Cluster"]["ID"]) == ("active", node_id, s["ID"])
    assert info["ControlAvailable"] is True
    # a second init is refused
    with pytest.raises(docker.errors.APIError) as e:
        client.swarm.init(advertise_addr="127.0.0.1", listen_addr=f"127.0.0.1:{rs.free_port()}")
    status, message = rs.api_error(e)
    assert status == 503 and "already part of a swarm" in message, (status, message)


def test_init_low_level_with_raft_nulls(daemon_factory):
    d = daemon_factory("sdk-init-ll")
    api = d.api()
    spec = api.create_swarm_spec(snapshot_interval=5000, heartbeat_tick=2, election_tick=20)
    assert spec["Raft"]["LogEntriesForSlowFollowers"] is None  # what goes on the wire: null
    node_id = api.init_swarm(
        advertise_addr="127.0.0.1",
        listen_addr=f"127.0.0.1:{rs.free_port()}",
        force_new_cluster=False,
        swarm_spec=spec,
    )
    d.remember_node()
    s = api.inspect_swarm()
    rs.assert_paths(
        s,
        {
            "Spec.Raft.SnapshotInterval": 5000,
            "Spec.Raft.HeartbeatTick": 2,
            "Spec.Raft.ElectionTick": 20,
            "Spec.Raft.LogEntriesForSlowFollowers": 500,
            "Spec.Orchestration.TaskHistoryRetentionLimit": 5,
            "Spec.Dispatcher.HeartbeatPeriod": 5 * SECOND,
        },
        "swarm",
    )
    assert api.info()["Swarm"]["NodeID"] == node_id


def test_update_spec_and_rotate_tokens(daemon_factory):
    d = daemon_factory("sdk-update")
    client = d.client()
    api = client.api
    client.swarm.init(advertise_addr="127.0.0.1", listen_addr=f"127.0.0.1:{rs.free_port()}")
    d.remember_node()
    before = client.swarm.attrs

    # model update: only what is given (plus the NodeCertExpiry the SDK adds)
    client.swarm.update(task_history_retention_limit=3, labels={"stage": "one"})
    client.swarm.reload()
    after = client.swarm.attrs
    assert after["Version"]["Index"] > before["Version"]["Index"]
    rs.assert_paths(
        after,
        {
            "Spec.Orchestration.TaskHistoryRetentionLimit": 3,
            "Spec.Labels": {"stage": "one"},
            "Spec.CAConfig.NodeCertExpiry": 7776000000000000,
            "Spec.Name": "default",
        },
        "swarm",
    )
    assert after["JoinTokens"] == before["JoinTokens"], "tokens changed without a rotation"

    # model update rotating the worker token only
    client.swarm.update(rotate_worker_token=True, task_history_retention_limit=3)
    client.swarm.reload()
    rotated = client.swarm.attrs["JoinTokens"]
    assert rotated["Worker"] != before["JoinTokens"]["Worker"]
    assert rotated["Manager"] == before["JoinTokens"]["Manager"]
    assert rotated["Worker"].startswith("SWMTKN-1-")
    # same CA digest part, new secret
    assert rotated["Worker"].split("-")[2] == before["JoinTokens"]["Worker"].split("-")[2]

    # low-level update rotating the manager token, with the full spec read back
    # (what the docker CLI does) and a new label
    s = api.inspect_swarm()
    spec = s["Spec"]
    spec["Labels"] = {"stage": "two"}
    spec["Dispatcher"]["HeartbeatPeriod"] = 6 * SECOND
    assert api.update_swarm(
        version=s["Version"]["Index"],
        swarm_spec=spec,
        rotate_manager_token=True,
    ) is True
    s2 = api.inspect_swarm()
    assert s2["JoinTokens"]["Manager"] != rotated["Manager"]
    assert s2["JoinTokens"]["Worker"] == rotated["Worker"]
    rs.assert_paths(
        s2,
        {
            "Spec.Labels": {"stage": "two"},
            "Spec.Dispatcher.HeartbeatPeriod": 6 * SECOND,
            "Spec.Orchestration.TaskHistoryRetentionLimit": 3,
            "Spec.Raft.SnapshotInterval": spec["Raft"]["SnapshotInterval"],
        },
        "swarm",
    )

    # low-level rotation of the worker token, with a spec built by the SDK
    api.update_swarm(
        version=s2["Version"]["Index"],
        swarm_spec=api.create_swarm_spec(task_history_retention_limit=4, node_cert_expiry=7776000000000000),
        rotate_worker_token=True,
        rotate_manager_token=False,
    )
    s3 = api.inspect_swarm()
    assert s3["JoinTokens"]["Worker"] != s2["JoinTokens"]["Worker"]
    assert s3["JoinTokens"]["Manager"] == s2["JoinTokens"]["Manager"]
    assert s3["Spec"]["Orchestration"]["TaskHistoryRetentionLimit"] == 4

    # a stale version is refused and changes nothing
    with pytest.raises(docker.errors.APIError) as e:
        api.update_swarm(version=s2["Version"]["Index"], swarm_spec=spec, rotate_worker_token=True)
    status, message = rs.api_error(e)
    assert "update out of sequence" in message, (status, message)
    assert api.inspect_swarm()["JoinTokens"] == s3["JoinTokens"]


def test_leave(daemon_factory):
    d = daemon_factory("sdk-leave")
    client = d.client()
    client.swarm.init(advertise_addr="127.0.0.1", listen_addr=f"127.0.0.1:{rs.free_port()}")
    d.remember_node()
    # the last manager only leaves with force
    with pytest.raises(docker.errors.APIError) as e:
        client.swarm.leave()
    status, message = rs.api_error(e)
    assert status == 503 and "--force" in message, (status, message)
    assert client.info()["Swarm"]["LocalNodeState"] == "active"

    assert client.swarm.leave(force=True) is True
    swarm = client.info()["Swarm"]
    assert swarm["LocalNodeState"] == "inactive" and swarm["NodeID"] == "", swarm
    with pytest.raises(docker.errors.APIError) as e:
        client.api.inspect_swarm()
    status, message = rs.api_error(e)
    assert status == 503 and "not a swarm manager" in message, (status, message)
    # leaving again: 503 "not part of a swarm", which the SDK ignores with force
    assert client.swarm.leave(force=True) is True
    assert rs.EXCHANGES[-1]["status"] == 503, rs.EXCHANGES[-1]
    assert "not part of a swarm" in rs.EXCHANGES[-1]["response"], rs.EXCHANGES[-1]
    with pytest.raises(docker.errors.APIError) as e:
        client.swarm.leave()
    status, message = rs.api_error(e)
    assert status == 503 and "not part of a swarm" in message, (status, message)
