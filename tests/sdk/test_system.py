"""The non-swarm reads every SDK makes around swarm work: ping, version,
info (its Swarm section), the container list and an image lookup."""

import docker
import pytest

import rswarm_sdk as rs


def test_ping_and_version(manager, client):
    assert client.ping() is True
    v = client.version()
    assert v["ApiVersion"] == "1.51", v
    assert v["MinAPIVersion"] == "1.24", v
    assert v["Os"] == "linux" and v["Arch"], v
    assert [c["Name"] for c in v["Components"]][0] == "Engine", v
    # the SDK negotiated the server's version ("auto") and uses it in URLs
    assert client.api.api_version == "1.51"


def test_info_swarm_section(manager, client, api):
    info = client.info()
    swarm = info["Swarm"]
    node_id = manager.remember_node()
    assert swarm["LocalNodeState"] == "active", swarm
    assert swarm["NodeID"] == node_id and node_id, swarm
    assert swarm["ControlAvailable"] is True, swarm
    assert swarm["Cluster"]["ID"] == api.inspect_swarm()["ID"], swarm
    assert swarm["NodeAddr"] == "127.0.0.1", swarm
    assert any(m["NodeID"] == node_id for m in swarm["RemoteManagers"]), swarm
    assert info["Name"] == manager.hostname, info.get("Name")


def test_info_of_a_daemon_outside_a_swarm(daemon_factory):
    d = daemon_factory("sdk-lonely")
    swarm = d.client().info()["Swarm"]
    assert swarm["LocalNodeState"] == "inactive", swarm
    assert swarm["NodeID"] == "" and swarm["ControlAvailable"] is False, swarm


def test_containers_list_is_empty(manager, client):
    # rswarm runs no local containers: the list a client makes first is empty
    assert client.containers.list() == []
    assert client.containers.list(all=True) == []
    assert client.api.containers(all=True) == []


def test_unknown_image_is_image_not_found(manager, client):
    with pytest.raises(docker.errors.ImageNotFound) as e:
        client.images.get("x")
    status, message = rs.api_error(e)
    assert status == 404
    assert "No such image: x" in message, message
