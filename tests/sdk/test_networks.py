"""Swarm networks through the Python SDK (issue 9): create with IPAM
pools, labels and flags, list with filters, inspect, services attached by
name get a VIP per network, removal refused while in use, and the
high-level `client.networks` models."""

import docker
import pytest
from docker.types import ContainerSpec, IPAMConfig, IPAMPool, NetworkAttachmentConfig, ServiceMode, TaskTemplate

import rswarm_sdk as rs
from rswarm_sdk import SECOND


def _template(**kw):
    return TaskTemplate(ContainerSpec("busybox", command=["busybox", "sleep", "1000"], stop_grace_period=SECOND), **kw)


def test_create_inspect_list_remove(api):
    ipam = IPAMConfig(pool_configs=[IPAMPool(subnet="10.77.0.0/24", iprange="10.77.0.128/25", gateway="10.77.0.1")])
    created = api.create_network("sdk-net", driver="overlay", ipam=ipam, attachable=True, labels={"k": "v"}, options={"o": "1"})
    nid = created["Id"]
    try:
        assert created.get("Warning", "") == ""
        n = api.inspect_network(nid)
        assert (n["Name"], n["Driver"], n["Scope"]) == ("sdk-net", "overlay", "swarm")
        assert n["Attachable"] is True and n["Internal"] is False and n["Ingress"] is False
        assert n["Labels"] == {"k": "v"}
        assert n["IPAM"]["Config"] == [{"Subnet": "10.77.0.0/24", "IPRange": "10.77.0.128/25", "Gateway": "10.77.0.1"}]
        assert int(n["Options"]["com.docker.network.driver.overlay.vxlanid_list"]) >= 4097
        # by name and by prefix too
        assert api.inspect_network("sdk-net")["Id"] == nid
        assert api.inspect_network(nid[:8])["Id"] == nid
        names = [x["Name"] for x in api.networks(filters={"label": "k=v"})]
        assert names == ["sdk-net"]
        assert sorted(x["Name"] for x in api.networks()) == ["ingress", "sdk-net"]
        assert [x["Name"] for x in api.networks(names=["ingress"])] == ["ingress"]

        # a service attached by name: the spec holds the ID, one VIP in the range
        sid = api.create_service(_template(networks=[NetworkAttachmentConfig("sdk-net", aliases=["db"])]), name="sdk-on-net", mode=ServiceMode("replicated", replicas=1))["ID"]
        s = api.inspect_service(sid)
        assert s["Spec"]["TaskTemplate"]["Networks"] == [{"Target": nid, "Aliases": ["db"]}]
        assert s["Endpoint"]["VirtualIPs"] == [{"NetworkID": nid, "Addr": "10.77.0.128/24"}]
        with pytest.raises(docker.errors.APIError) as e:
            api.remove_network(nid)
        status, message = rs.api_error(e)
        assert status == 400 and f"network {nid} is in use by service {sid}" in message, (status, message)
        api.remove_service(sid)
    finally:
        rs.wait_until("the service is gone", lambda: not api.services(filters={"name": "sdk-on-net"}))
        api.remove_network(nid)
    with pytest.raises(docker.errors.NotFound):
        api.inspect_network(nid)


def test_bad_networks_are_refused(api):
    before = api.networks()
    with pytest.raises(docker.errors.APIError) as e:
        api.create_network("sdk-bad", driver="overlay", ipam=IPAMConfig(pool_configs=[IPAMPool(subnet="10.0.0.0/16")]))
    status, message = rs.api_error(e)
    assert status == 400 and "Pool overlaps" in message, (status, message)
    with pytest.raises(docker.errors.APIError) as e:
        api.create_network("sdk-bad", driver="overlay", ipam=IPAMConfig(pool_configs=[IPAMPool(subnet="10.88.0.0/24", gateway="10.89.0.1")]))
    assert "does not contain gateway 10.89.0.1" in rs.api_error(e)[1]
    with pytest.raises(docker.errors.APIError) as e:
        api.create_network("ingress", driver="overlay")
    assert rs.api_error(e) == (409, "network with name ingress already exists")
    with pytest.raises(docker.errors.APIError) as e:
        api.create_network("sdk-local")
    assert rs.api_error(e)[0] == 501
    assert api.networks() == before


def test_models(client):
    net = client.networks.create("sdk-model-net", driver="overlay", internal=True)
    try:
        got = client.networks.get("sdk-model-net")
        assert got.id == net.id and got.attrs["Internal"] is True
        assert "sdk-model-net" in [n.name for n in client.networks.list()]
    finally:
        net.remove()
    assert "sdk-model-net" not in [n.name for n in client.networks.list()]


def test_ingress_is_removed_and_created_again(api):
    old = api.inspect_network("ingress")
    assert old["Ingress"] is True
    # one ingress network at a time
    with pytest.raises(docker.errors.APIError) as e:
        api.create_network("ingress-2", driver="overlay", ingress=True)
    status, message = rs.api_error(e)
    assert status in (400, 403) and f"ingress network ({old['Id']}) is already present" in message, (status, message)
    api.remove_network("ingress")
    with pytest.raises(docker.errors.NotFound):
        api.inspect_network(old["Id"])
    created = api.create_network("ingress", driver="overlay", ingress=True, ipam=IPAMConfig(pool_configs=[IPAMPool(subnet="10.99.0.0/24")]))
    n = api.inspect_network(created["Id"])
    assert (n["Name"], n["Ingress"], n["Scope"]) == ("ingress", True, "swarm")
    assert n["Id"] != old["Id"]
    assert n["IPAM"]["Config"][0]["Subnet"] == "10.99.0.0/24"
