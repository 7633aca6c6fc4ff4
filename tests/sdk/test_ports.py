"""Ports published through the routing mesh (ingress mode) with the
Python SDK (issue 10): `EndpointSpec(ports={P: 80})` shows in
`Endpoint.Ports` with swarmkit's defaults, a port left out gets one from
30000-32767 and keeps it across updates, and a port another service
publishes is an APIError 400 in swarmkit's words with nothing created.
What is checked is the API's answer, not traffic (the data plane's own
tests do that)."""

import docker
import pytest
from docker.types import EndpointSpec

import rswarm_sdk as rs


def _ingress(published, target, protocol="tcp"):
    return {"Protocol": protocol, "TargetPort": target, "PublishedPort": published, "PublishMode": "ingress"}


def test_published_port_and_conflict(client):
    port = rs.free_port()
    web = client.services.create("busybox", ["busybox", "sleep", "1000"], name="sdk-ports", endpoint_spec=EndpointSpec(ports={port: 80}))
    assert web.attrs["Endpoint"]["Ports"] == [_ingress(port, 80)]
    assert web.attrs["Spec"]["EndpointSpec"]["Ports"] == [_ingress(port, 80)]
    assert web.attrs["Endpoint"]["Spec"]["Ports"] == [_ingress(port, 80)]

    with pytest.raises(docker.errors.APIError) as excinfo:
        client.services.create("busybox", ["busybox", "sleep", "1000"], name="sdk-ports-2", endpoint_spec=EndpointSpec(ports={port: 81}))
    status, message = rs.api_error(excinfo)
    assert status == 400, message
    assert f"port '{port}' is already in use by service 'sdk-ports' ({web.id}) as an ingress port" in message
    assert [s.name for s in client.services.list()] == ["sdk-ports"]


def test_dynamic_port_is_kept_across_updates(client):
    svc = client.services.create(
        "busybox", ["busybox", "sleep", "1000"], name="sdk-dyn", endpoint_spec=EndpointSpec(ports=[{"TargetPort": 53, "Protocol": "udp"}])
    )
    [p] = svc.attrs["Endpoint"]["Ports"]
    assert 30000 <= p["PublishedPort"] <= 32767
    assert (p["Protocol"], p["TargetPort"], p["PublishMode"]) == ("udp", 53, "ingress")

    extra = rs.free_port()
    svc.update(endpoint_spec=EndpointSpec(ports=[{"TargetPort": 53, "Protocol": "udp"}, {"TargetPort": 80, "PublishedPort": extra}]))
    svc.reload()
    assert sorted(svc.attrs["Endpoint"]["Ports"], key=lambda x: x["TargetPort"]) == [
        _ingress(p["PublishedPort"], 53, "udp"),
        _ingress(extra, 80),
    ]
