"""Services through the high-level `docker.DockerClient` models:
`client.services.create` with every keyword argument it accepts, then the
Service model's update, scale, force_update, logs, tasks and remove."""

import os

import docker
import pytest
from docker.models.services import CONTAINER_SPEC_KWARGS, CREATE_SERVICE_KWARGS, PLACEMENT_KWARGS, TASK_TEMPLATE_KWARGS
from docker.types import (
    DNSConfig,
    EndpointSpec,
    Healthcheck,
    Privileges,
    Resources,
    RestartPolicy,
    RollbackConfig,
    ServiceMode,
    UpdateConfig,
)

import rswarm_sdk as rs
from rswarm_sdk import SECOND

MIB = 1024 * 1024

# kwargs of services.create that need what rswarm refuses clearly (see
# test_unsupported.py, which exercises each of them)
REFUSED_KWARGS = {"mounts", "networks", "secrets", "configs"}


def sh(script):
    return ["busybox", "sh", "-c", script]


def every_kwarg(port):
    """A value for every keyword argument `services.create` accepts except
    the image and the refused ones."""
    return dict(
        # CREATE_SERVICE_KWARGS
        name="sdk-model-all",
        labels={"svc": "model"},
        mode=ServiceMode("replicated", replicas=1),
        update_config=UpdateConfig(parallelism=1, delay=SECOND // 10, failure_action="pause", monitor=SECOND, max_failure_ratio=0.1, order="stop-first"),
        rollback_config=RollbackConfig(parallelism=1, delay=0, failure_action="continue", monitor=SECOND, max_failure_ratio=0.2, order="start-first"),
        endpoint_spec=EndpointSpec(mode="vip", ports={port: (port, "tcp", "host")}),
        # CONTAINER_SPEC_KWARGS
        command=["busybox", "sh", "-c"],
        args=["echo model says $FOO; echo model-err >&2; exec sleep 1000"],
        cap_add=["CAP_NET_ADMIN"],
        cap_drop=["CAP_MKNOD"],
        dns_config=DNSConfig(nameservers=["8.8.8.8"], search=["example.test"], options=["ndots:2"]),
        env=["FOO=bar", "EMPTY="],
        groups=["nogroup"],
        healthcheck=Healthcheck(test=["CMD", "true"], interval=SECOND, timeout=SECOND, retries=3, start_period=SECOND),
        hostname="sdk-task",
        hosts={"db.example.test": "10.9.8.7"},
        init=True,
        isolation="default",
        open_stdin=True,
        privileges=Privileges(selinux_disable=False, selinux_user="u", selinux_role="r", selinux_type="t", selinux_level="s0"),
        read_only=True,
        stop_grace_period=2 * SECOND,
        stop_signal="SIGTERM",
        tty=False,
        user="nobody",
        workdir="/tmp",
        sysctls={"net.core.somaxconn": "1024"},
        # container_labels (ContainerSpec.Labels)
        container_labels={"ctr": "label"},
        # TASK_TEMPLATE_KWARGS
        resources=Resources(cpu_limit=500_000_000, mem_limit=128 * MIB, cpu_reservation=50_000_000, mem_reservation=4 * MIB),
        restart_policy=RestartPolicy(condition="any", delay=SECOND, max_attempts=0, window=0),
        # PLACEMENT_KWARGS
        constraints=["node.role==manager"],
        preferences=[("spread", "node.labels.rack")],
        maxreplicas=3,
        platforms=[("x86_64", "linux")],
        # log driver
        log_driver="json-file",
        log_driver_options={"max-file": "2"},
    )


def test_every_create_kwarg_is_covered():
    """Guards the list above against SDK additions."""
    accepted = set(CREATE_SERVICE_KWARGS) | set(CONTAINER_SPEC_KWARGS) | set(TASK_TEMPLATE_KWARGS) | set(PLACEMENT_KWARGS)
    accepted |= {"container_labels", "log_driver", "log_driver_options"}
    covered = set(every_kwarg(1)) | REFUSED_KWARGS | {"image"}
    assert accepted - covered == set(), f"services.create kwargs not exercised: {accepted - covered}"


def test_create_with_every_kwarg(api, client):
    port = rs.free_port()
    kwargs = every_kwarg(port)
    svc = client.services.create("busybox:1.36", **kwargs)
    sent = rs.last_sent("/services/create")
    assert isinstance(svc, docker.models.services.Service)
    assert svc.name == "sdk-model-all" and svc.id
    spec = svc.attrs["Spec"]
    rs.assert_spec_sent(spec, sent)
    rs.assert_paths(
        spec,
        {
            "Labels": {"svc": "model"},
            "Mode": {"Replicated": {"Replicas": 1}},
            "TaskTemplate.ContainerSpec.Image": "busybox:1.36",
            "TaskTemplate.ContainerSpec.Command": ["busybox", "sh", "-c"],
            "TaskTemplate.ContainerSpec.Args": ["echo model says $FOO; echo model-err >&2; exec sleep 1000"],
            "TaskTemplate.ContainerSpec.Labels": {"ctr": "label"},
            "TaskTemplate.ContainerSpec.Env": ["FOO=bar", "EMPTY="],
            "TaskTemplate.ContainerSpec.Hosts": ["10.9.8.7 db.example.test"],
            "TaskTemplate.ContainerSpec.User": "nobody",
            "TaskTemplate.ContainerSpec.Dir": "/tmp",
            "TaskTemplate.ContainerSpec.Hostname": "sdk-task",
            "TaskTemplate.ContainerSpec.Init": True,
            "TaskTemplate.ContainerSpec.ReadOnly": True,
            "TaskTemplate.ContainerSpec.OpenStdin": True,
            "TaskTemplate.ContainerSpec.CapabilityAdd": ["CAP_NET_ADMIN"],
            "TaskTemplate.ContainerSpec.CapabilityDrop": ["CAP_MKNOD"],
            "TaskTemplate.ContainerSpec.Sysctls": {"net.core.somaxconn": "1024"},
            "TaskTemplate.ContainerSpec.DNSConfig": {"Nameservers": ["8.8.8.8"], "Search": ["example.test"], "Options": ["ndots:2"]},
            "TaskTemplate.ContainerSpec.Healthcheck.Test": ["CMD", "true"],
            "TaskTemplate.ContainerSpec.Privileges.SELinuxContext.Level": "s0",
            "TaskTemplate.ContainerSpec.Isolation": "default",
            "TaskTemplate.LogDriver": {"Name": "json-file", "Options": {"max-file": "2"}},
            "TaskTemplate.Placement.Platforms": [{"Architecture": "x86_64", "OS": "linux"}],
            "TaskTemplate.Placement.MaxReplicas": 3,
            "TaskTemplate.Resources.Limits.MemoryBytes": 128 * MIB,
            "RollbackConfig.Order": "start-first",
            "UpdateConfig.Delay": SECOND // 10,
        },
    )
    # the task runs as a host process with the spec's env, user and directory
    tasks = rs.wait_running(api, svc.id, 1)
    (pid,) = rs.service_pids(svc.id)
    env = rs.proc_env(pid)
    assert "FOO=bar" in env and "EMPTY=" in env, env
    assert rs.proc_uid(pid) == 65534, "not running as nobody"
    assert os.readlink(f"/proc/{pid}/cwd") == "/tmp"
    assert svc.tasks()[0]["ID"] == tasks[0]["ID"]
    text = rs.wait_until("model logs", lambda: (lambda t: t if "model says bar" in t else None)(
        b"".join(svc.logs(stdout=True, stderr=True)).decode()))
    assert "model-err" in text
    assert client.services.get(svc.id).attrs["Spec"] == spec
    assert [s.id for s in client.services.list(filters={"name": "sdk-model-all"})] == [svc.id]


def test_model_update_scale_force_update_remove(api, client):
    svc = client.services.create(
        "busybox",
        sh("echo model rev $REV; exec sleep 1000"),
        name="sdk-model-life",
        env=["REV=1"],
        labels={"rev": "1"},
        mode=ServiceMode("replicated", replicas=1),
        stop_grace_period=SECOND,
        update_config=UpdateConfig(parallelism=0, monitor=SECOND),
    )
    rs.wait_running(api, svc.id, 1)

    # update (fetch_current_spec by default): only env and labels change
    svc.reload()
    assert "Warnings" in svc.update(env=["REV=2"], labels={"rev": "2"})
    svc.reload()
    rs.assert_paths(
        svc.attrs["Spec"],
        {
            "TaskTemplate.ContainerSpec.Env": ["REV=2"],
            "TaskTemplate.ContainerSpec.Command": sh("echo model rev $REV; exec sleep 1000"),
            "TaskTemplate.ContainerSpec.StopGracePeriod": SECOND,
            "Labels": {"rev": "2"},
            "Mode": {"Replicated": {"Replicas": 1}},
            "UpdateConfig.Monitor": SECOND,
        },
    )
    rs.wait_until("REV=2 task", lambda: [p for p in rs.service_pids(svc.id) if "REV=2" in rs.proc_env(p)])
    rs.wait_update_completed(api, svc.id)

    # scale: the running count follows
    for n in (3, 1):
        svc.reload()
        assert svc.scale(n) is not None
        svc.reload()
        assert svc.attrs["Spec"]["Mode"] == {"Replicated": {"Replicas": n}}
        rs.wait_running(api, svc.id, n)
        assert all("REV=2" in rs.proc_env(p) for p in rs.service_pids(svc.id))

    # force_update: ForceUpdate + 1 and a new task process, same spec
    svc = rs.wait_until("no update in progress", lambda: client.services.get(svc.id)
                        if (client.services.get(svc.id).attrs.get("UpdateStatus") or {}).get("State") in (None, "completed") else None)
    before_pids = rs.service_pids(svc.id)
    force = svc.attrs["Spec"]["TaskTemplate"].get("ForceUpdate", 0)
    svc.force_update()
    svc.reload()
    assert svc.attrs["Spec"]["TaskTemplate"]["ForceUpdate"] == force + 1
    assert svc.attrs["Spec"]["TaskTemplate"]["ContainerSpec"]["Env"] == ["REV=2"]
    rs.wait_until("a new task process", lambda: (lambda p: p if p and not set(p) & set(before_pids) else None)(rs.service_pids(svc.id)))
    rs.wait_running(api, svc.id, 1)

    # update without fetching the current spec: what is given is the spec
    rs.wait_update_completed(api, svc.id)
    svc.reload()
    svc.update(
        fetch_current_spec=False,
        name="sdk-model-life",
        command=sh("echo model rev $REV; exec sleep 1000"),
        env=["REV=3"],
        mode=ServiceMode("replicated", replicas=2),
    )
    svc.reload()
    spec = svc.attrs["Spec"]
    rs.assert_paths(
        spec,
        {
            "TaskTemplate.ContainerSpec.Env": ["REV=3"],
            "TaskTemplate.ContainerSpec.Image": "busybox",
            "Mode": {"Replicated": {"Replicas": 2}},
            "Labels": {},
        },
    )
    assert "UpdateConfig" not in spec and "StopGracePeriod" not in spec["TaskTemplate"]["ContainerSpec"], spec
    rs.wait_until("2 REV=3 tasks", lambda: len([p for p in rs.service_pids(svc.id) if "REV=3" in rs.proc_env(p)]) == 2)
    rs.wait_running(api, svc.id, 2)
    rs.wait_until("REV=3 in the logs", lambda: "model rev 3" in b"".join(svc.logs(stdout=True)).decode())

    # remove: the service and its processes go
    assert svc.remove() is True
    with pytest.raises(docker.errors.NotFound):
        client.services.get(svc.id)
    rs.wait_no_processes(svc.id)


def test_model_scale_refuses_global(api, client):
    svc = client.services.create("busybox", sh("exec sleep 1000"), name="sdk-model-global", mode=ServiceMode("global"))
    assert svc.attrs["Spec"]["Mode"] == {"Global": {}}
    rs.wait_running(api, svc.id, len(api.nodes()))
    with pytest.raises(docker.errors.InvalidArgument):
        svc.scale(2)


def test_tty_service_logs_raw(api, client):
    svc = client.services.create(
        "busybox", sh("echo tty-line; exec sleep 1000"), name="sdk-model-tty", tty=True,
        mode={"Replicated": {"Replicas": 1}},
    )
    assert svc.attrs["Spec"]["TaskTemplate"]["ContainerSpec"]["TTY"] is True
    rs.wait_running(api, svc.id, 1)
    rs.wait_until("tty-line in the raw log", lambda: "tty-line" in b"".join(svc.logs(stdout=True)).decode("utf-8", "replace"))
