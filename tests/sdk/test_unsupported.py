"""What rswarm does not have yet answers with a clear error naming what is
missing, through the SDK: networks (issue 9) and unknown secrets/configs
are 404 "not found", host-mode ports are accepted, and mounts are
accepted in the spec but their tasks are rejected with the reason."""

import docker
import pytest
from docker.types import (
    ConfigReference,
    ContainerSpec,
    EndpointSpec,
    Mount,
    NetworkAttachmentConfig,
    SecretReference,
    ServiceMode,
    TaskTemplate,
)

import rswarm_sdk as rs
from rswarm_sdk import SECOND


def sh(script):
    return ["busybox", "sh", "-c", script]


def simple_template(**kw):
    return TaskTemplate(ContainerSpec("busybox", command=sh("exec sleep 1000"), stop_grace_period=SECOND, **kw))


def names(api):
    return sorted(s["Spec"]["Name"] for s in api.services())


def assert_not_found(excinfo, kind, name):
    status, message = rs.api_error(excinfo)
    assert status == 404, (status, message)
    assert isinstance(excinfo.value, docker.errors.NotFound)
    assert kind in message and name in message and "not found" in message, message


def test_unknown_network_on_create(api, client):
    # low-level, the (deprecated) top-level Networks the SDK sends
    with pytest.raises(docker.errors.APIError) as e:
        api.create_service(simple_template(), name="sdk-net-ll", mode=ServiceMode("replicated", replicas=1), networks=["nosuchnet"])
    assert rs.last_sent("/services/create")["Networks"] == [{"Target": "nosuchnet"}]
    assert_not_found(e, "network", "nosuchnet")
    # low-level, TaskTemplate.Networks with a NetworkAttachmentConfig
    with pytest.raises(docker.errors.APIError) as e:
        api.create_service(
            TaskTemplate(
                ContainerSpec("busybox", command=sh("exec sleep 1000")),
                networks=[NetworkAttachmentConfig("backnet", aliases=["db"], options={"k": "v"})],
            ),
            name="sdk-net-tt",
            mode=ServiceMode("replicated", replicas=1),
        )
    assert_not_found(e, "network", "backnet")
    # model
    with pytest.raises(docker.errors.APIError) as e:
        client.services.create("busybox", sh("exec sleep 1000"), name="sdk-net-model", networks=["frontnet"])
    assert rs.last_sent("/services/create")["TaskTemplate"]["Networks"] == [{"Target": "frontnet"}]
    assert_not_found(e, "network", "frontnet")
    assert not [n for n in names(api) if n.startswith("sdk-net")]


def test_unknown_network_on_update(api):
    sid = api.create_service(simple_template(), name="sdk-net-upd", mode={"Replicated": {"Replicas": 1}})["ID"]
    rs.wait_running(api, sid, 1)
    before = api.inspect_service(sid)
    with pytest.raises(docker.errors.APIError) as e:
        api.update_service(sid, before["Version"]["Index"], networks=["nosuchnet"], fetch_current_spec=True)
    assert rs.last_sent("/update")["TaskTemplate"]["Networks"] == [{"Target": "nosuchnet"}]
    assert_not_found(e, "network", "nosuchnet")
    after = api.inspect_service(sid)
    assert after["Version"] == before["Version"] and after["Spec"] == before["Spec"]
    assert "Networks" not in after["Spec"]["TaskTemplate"] or not after["Spec"]["TaskTemplate"]["Networks"]


def test_host_mode_port_accepted(api):
    # (ingress-mode ports are allocated now: test_ports.py)
    port = rs.free_port()
    sid = api.create_service(
        simple_template(),
        name="sdk-hostport",
        mode={"Replicated": {"Replicas": 1}},
        endpoint_spec=EndpointSpec(ports={port: (8080, "tcp", "host")}),
    )["ID"]
    ports = api.inspect_service(sid)["Spec"]["EndpointSpec"]["Ports"]
    assert ports == [{"Protocol": "tcp", "TargetPort": 8080, "PublishedPort": port, "PublishMode": "host"}], ports
    rs.wait_running(api, sid, 1)


def test_unknown_secret_and_config(api, client):
    with pytest.raises(docker.errors.APIError) as e:
        client.services.create(
            "busybox", sh("exec sleep 1000"), name="sdk-secret",
            secrets=[SecretReference("secretid0123456789abcdefg", "db_password", filename="db", uid="0", gid="0", mode=0o400)],
        )
    sent = rs.last_sent("/services/create")["TaskTemplate"]["ContainerSpec"]["Secrets"]
    assert sent == [{"SecretName": "db_password", "SecretID": "secretid0123456789abcdefg",
                     "File": {"Name": "db", "UID": "0", "GID": "0", "Mode": 0o400}}], sent
    assert_not_found(e, "secret", "db_password")

    with pytest.raises(docker.errors.APIError) as e:
        api.create_service(
            TaskTemplate(ContainerSpec(
                "busybox", command=sh("exec sleep 1000"),
                configs=[ConfigReference("configid0123456789abcdefg", "app_conf", filename="/etc/app.conf")],
            )),
            name="sdk-config",
            mode=ServiceMode("replicated", replicas=1),
        )
    assert_not_found(e, "config", "app_conf")
    assert "sdk-secret" not in names(api) and "sdk-config" not in names(api)

    # the lookups SDK users make first
    assert client.secrets.list() == [] and client.configs.list() == []
    with pytest.raises(docker.errors.NotFound):
        client.secrets.get("db_password")
    with pytest.raises(docker.errors.NotFound):
        client.configs.get("app_conf")


def test_mounts_accepted_but_tasks_rejected(api, client):
    svc = client.services.create(
        "busybox", sh("exec sleep 1000"), name="sdk-mounts",
        mounts=["/tmp:/data:ro", "cache:/cache"],
        mode=ServiceMode("replicated", replicas=1),
    )
    mounts = svc.attrs["Spec"]["TaskTemplate"]["ContainerSpec"]["Mounts"]
    rs.assert_paths(
        {"m": mounts},
        {
            "m.0.Type": "bind", "m.0.Source": "/tmp", "m.0.Target": "/data", "m.0.ReadOnly": True,
            "m.1.Type": "volume", "m.1.Source": "cache", "m.1.Target": "/cache",
        },
        "mounts",
    )
    task = rs.wait_until(
        "a rejected task",
        lambda: next((t for t in svc.tasks() if t["Status"]["State"] == "rejected"), None),
    )
    reason = task["Status"].get("Err", "")
    assert "mounts" in reason and "not support" in reason, task["Status"]
    assert not rs.service_pids(svc.id)

    # low-level, a tmpfs Mount object: same
    sid = api.create_service(
        TaskTemplate(ContainerSpec("busybox", command=sh("exec sleep 1000"),
                                   mounts=[Mount("/scratch", None, type="tmpfs", tmpfs_size=1 << 20)])),
        name="sdk-mounts-ll",
        mode={"Replicated": {"Replicas": 1}},
    )["ID"]
    m = api.inspect_service(sid)["Spec"]["TaskTemplate"]["ContainerSpec"]["Mounts"]
    assert m[0]["Type"] == "tmpfs" and m[0]["Target"] == "/scratch" and m[0]["TmpfsOptions"]["SizeBytes"] == 1 << 20, m
    rs.wait_until(
        "a rejected tmpfs task",
        lambda: any(t["Status"]["State"] == "rejected" and "mounts" in t["Status"].get("Err", "")
                    for t in api.tasks(filters={"service": sid})),
    )
