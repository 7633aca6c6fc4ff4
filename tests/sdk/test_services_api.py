"""Services through the low-level `docker.APIClient`: create_service and
update_service with every optional argument, inspect, tasks, logs, scale,
rollback (configured, automatic, by spec and server-side) and remove.
Every call is checked on its outcome: the spec read back equals what the
SDK sent, tasks run as host processes with the spec's settings, logs hold
their output, removal ends the processes."""

import os

import docker
import pytest
from docker.types import (
    ContainerSpec,
    DriverConfig,
    EndpointSpec,
    Placement,
    Resources,
    RestartPolicy,
    RollbackConfig,
    ServiceMode,
    TaskTemplate,
    UpdateConfig,
)

import rswarm_sdk as rs
from rswarm_sdk import SECOND

MIB = 1024 * 1024


def sh(script):
    """A task command: busybox's shell running `script`."""
    return ["busybox", "sh", "-c", script]


def env_of(service_id):
    return [rs.proc_env(p) for p in rs.service_pids(service_id)]


# The optional arguments of APIClient.create_service / update_service and
# the tests that pass each of them.
CREATE_ARGS = {
    "name": "test_create_service_with_every_argument",
    "labels": "test_create_service_with_every_argument",
    "mode": "test_create_service_with_every_argument",
    "update_config": "test_create_service_with_every_argument",
    "networks": "test_unsupported.py::test_unknown_network_on_create",
    "endpoint_config": "test_create_service_with_every_argument (the SDK ignores it)",
    "endpoint_spec": "test_create_service_with_every_argument",
    "rollback_config": "test_create_service_with_every_argument",
}
UPDATE_ARGS = {
    "task_template": "test_update_service_every_argument_without_fetch_current_spec",
    "name": "test_update_service_every_argument_without_fetch_current_spec",
    "labels": "test_update_service_every_argument_without_fetch_current_spec",
    "mode": "test_update_service_every_argument_without_fetch_current_spec",
    "update_config": "test_update_service_every_argument_without_fetch_current_spec",
    "networks": "test_unsupported.py::test_unknown_network_on_update",
    "endpoint_config": "test_update_service_every_argument_without_fetch_current_spec (ignored)",
    "endpoint_spec": "test_update_service_every_argument_without_fetch_current_spec",
    "fetch_current_spec": "test_update_service_with_fetch_current_spec",
    "rollback_config": "test_rollback_config_and_automatic_rollback",
}


def test_every_optional_argument_is_covered():
    """Guards the lists above against SDK additions."""
    import inspect

    def optional(fn):
        return {n for n, p in inspect.signature(fn).parameters.items() if p.default is not inspect.Parameter.empty}

    assert optional(docker.APIClient.create_service) == set(CREATE_ARGS)
    assert optional(docker.APIClient.update_service) == set(UPDATE_ARGS)


def test_create_service_with_every_argument(api):
    port = rs.free_port()
    task_template = TaskTemplate(
        container_spec=ContainerSpec(
            image="busybox:latest",
            command=sh("echo hello $GREETING; echo err-line >&2; exec sleep 1000"),
            env={"GREETING": "sdk"},
            workdir="/tmp",
            labels={"c": "1"},
            stop_grace_period=2 * SECOND,
            stop_signal="SIGTERM",
        ),
        resources=Resources(cpu_limit=500_000_000, mem_limit=256 * MIB, cpu_reservation=100_000_000, mem_reservation=8 * MIB),
        restart_policy=RestartPolicy(condition="on-failure", delay=SECOND, max_attempts=3, window=10 * SECOND),
        placement=Placement(constraints=["node.role==manager"], preferences=[("spread", "node.labels.zone")], maxreplicas=2),
        log_driver=DriverConfig("json-file", {"max-size": "1m"}),
        force_update=0,
    )
    resp = api.create_service(
        task_template,
        name="sdk-ll-all",
        labels={"svc": "ll"},
        mode=ServiceMode("replicated", replicas=1),
        update_config=UpdateConfig(parallelism=1, delay=0, failure_action="continue", monitor=SECOND, max_failure_ratio=0.25, order="stop-first"),
        networks=None,
        endpoint_config={"ignored": "by the SDK"},
        endpoint_spec=EndpointSpec(mode="vip", ports={port: (port, "tcp", "host")}),
        rollback_config=RollbackConfig(parallelism=2, delay=0, failure_action="pause", monitor=SECOND, max_failure_ratio=0.5, order="start-first"),
    )
    assert resp["ID"] and "Warnings" in resp, resp
    sid = resp["ID"]
    sent = rs.last_sent("/services/create")
    assert sent["Mode"] == {"replicated": {"Replicas": 1}}  # the SDK's casing

    svc = api.inspect_service(sid)
    assert svc["ID"] == sid and svc["Version"]["Index"] > 0
    rs.assert_spec_sent(svc["Spec"], sent)
    rs.assert_paths(
        svc,
        {
            "Spec.Name": "sdk-ll-all",
            "Spec.Mode": {"Replicated": {"Replicas": 1}},
            "Spec.TaskTemplate.ContainerSpec.Env": ["GREETING=sdk"],
            "Spec.TaskTemplate.ContainerSpec.Dir": "/tmp",
            "Spec.RollbackConfig.Order": "start-first",
            "Spec.UpdateConfig.FailureAction": "continue",
            "Spec.EndpointSpec.Ports": [
                {"Protocol": "tcp", "TargetPort": port, "PublishedPort": port, "PublishMode": "host"}
            ],
        },
    )
    assert svc.get("PreviousSpec") is None and svc.get("UpdateStatus") is None

    tasks = rs.wait_running(api, sid, 1)
    (pid,) = rs.service_pids(sid)
    assert "GREETING=sdk" in rs.proc_env(pid)
    assert os.readlink(f"/proc/{pid}/cwd") == "/tmp"
    task = api.inspect_task(tasks[0]["ID"])
    assert task["ServiceID"] == sid and task["Slot"] == 1
    assert task["Spec"]["ContainerSpec"]["Env"] == ["GREETING=sdk"]
    assert [s["ID"] for s in api.services(filters={"name": "sdk-ll-all"})] == [sid]
    listed = api.services(filters={"id": sid}, status=True)
    assert listed[0]["ServiceStatus"]["RunningTasks"] == 1 and listed[0]["ServiceStatus"]["DesiredTasks"] == 1, listed

    logs = rs.wait_logs(api, sid, "hello sdk")
    assert "err-line" in logs
    only_out = rs.service_logs(api, sid, stdout=True, stderr=False)
    assert "hello sdk" in only_out and "err-line" not in only_out, only_out
    only_err = rs.service_logs(api, sid, stdout=False, stderr=True)
    assert "err-line" in only_err and "hello sdk" not in only_err, only_err


def test_create_service_without_mode_is_one_replica(api):
    # Docker: a spec without Mode is replicated with 1 replica
    sid = api.create_service(
        TaskTemplate(ContainerSpec("busybox", command=sh("echo one; exec sleep 1000"))),
        name="sdk-ll-nomode",
    )["ID"]
    assert "Mode" not in rs.last_sent("/services/create")
    assert api.inspect_service(sid)["Spec"]["Mode"] == {"Replicated": {"Replicas": 1}}
    rs.wait_running(api, sid, 1)
    rs.wait_logs(api, sid, "one")


def test_create_service_mode_without_replicas_is_one_replica(api):
    # ServiceMode("replicated") sends {"replicated": {}}: 1 replica
    sid = api.create_service(
        TaskTemplate(ContainerSpec("busybox", command=sh("exec sleep 1000"))),
        name="sdk-ll-mode-empty",
        mode=ServiceMode("replicated"),
    )["ID"]
    assert rs.last_sent("/services/create")["Mode"] == {"replicated": {}}
    assert api.inspect_service(sid)["Spec"]["Mode"] == {"Replicated": {"Replicas": 1}}
    rs.wait_running(api, sid, 1)


def test_update_service_every_argument_without_fetch_current_spec(api):
    sid = api.create_service(
        TaskTemplate(ContainerSpec("busybox", command=sh("echo v1 $V; exec sleep 1000"), env=["V=one"])),
        name="sdk-ll-upd",
        labels={"rev": "1"},
        mode={"Replicated": {"Replicas": 1}},
    )["ID"]
    rs.wait_running(api, sid, 1)
    old_pids = rs.service_pids(sid)
    original = rs.settled(api, sid)

    resp = api.update_service(
        sid,
        original["Version"]["Index"],
        task_template=TaskTemplate(
            ContainerSpec("busybox", command=sh("echo v2 $V; exec sleep 1000"), env=["V=two"], stop_grace_period=SECOND),
            restart_policy=RestartPolicy(condition="any", delay=SECOND),
            force_update=0,
        ),
        name="sdk-ll-upd",
        labels={"rev": "2"},
        mode=ServiceMode("replicated", replicas=2),
        update_config=UpdateConfig(parallelism=2, delay=0, failure_action="pause", monitor=SECOND, order="start-first"),
        networks=None,
        endpoint_config=None,
        endpoint_spec=EndpointSpec(mode="vip"),
        fetch_current_spec=False,
        rollback_config=RollbackConfig(parallelism=1, failure_action="continue", monitor=SECOND),
    )
    assert "Warnings" in resp, resp
    sent = rs.last_sent("/services/%s/update" % sid)
    svc = api.inspect_service(sid)
    assert svc["Version"]["Index"] > original["Version"]["Index"]
    rs.assert_spec_sent(svc["Spec"], sent)
    rs.assert_paths(
        svc,
        {
            "Spec.Mode": {"Replicated": {"Replicas": 2}},
            "Spec.Labels": {"rev": "2"},
            "Spec.TaskTemplate.ContainerSpec.Env": ["V=two"],
            "Spec.UpdateConfig.Parallelism": 2,
            "Spec.RollbackConfig.FailureAction": "continue",
        },
    )
    assert svc["PreviousSpec"]["TaskTemplate"]["ContainerSpec"]["Env"] == ["V=one"]
    assert svc["PreviousSpec"]["Labels"] == {"rev": "1"}

    tasks = rs.wait_running(api, sid, 2)
    assert sorted(t["Slot"] for t in tasks) == [1, 2]
    rs.wait_until("new task processes", lambda: all(e and "V=two" in e for e in env_of(sid)) and len(env_of(sid)) == 2)
    assert not set(old_pids) & set(rs.service_pids(sid)), "the old task process survived the update"
    rs.wait_logs(api, sid, "v2 two")
    rs.wait_until(
        "update completed",
        lambda: (api.inspect_service(sid).get("UpdateStatus") or {}).get("State") == "completed",
    )


def test_update_service_without_mode_is_one_replica(api):
    sid = api.create_service(
        TaskTemplate(ContainerSpec("busybox", command=sh("exec sleep 1000"))),
        name="sdk-ll-upd-nomode",
        mode={"Replicated": {"Replicas": 2}},
    )["ID"]
    rs.wait_running(api, sid, 2)
    v = rs.settled(api, sid)["Version"]["Index"]
    # no fetch_current_spec, no mode: Docker makes it replicated with 1 replica
    api.update_service(
        sid, v,
        task_template=TaskTemplate(ContainerSpec("busybox", command=sh("exec sleep 1000"))),
        name="sdk-ll-upd-nomode",
    )
    assert rs.last_sent("/update").get("Mode") is None
    assert api.inspect_service(sid)["Spec"]["Mode"] == {"Replicated": {"Replicas": 1}}
    rs.wait_running(api, sid, 1)


def test_update_service_with_fetch_current_spec(api):
    sid = api.create_service(
        TaskTemplate(
            ContainerSpec("busybox", command=sh("echo fetched $V; exec sleep 1000"), env=["V=a"], workdir="/tmp"),
            restart_policy=RestartPolicy(condition="on-failure", delay=SECOND, max_attempts=2),
        ),
        name="sdk-ll-fetch",
        labels={"keep": "me"},
        mode={"Replicated": {"Replicas": 2}},
        update_config=UpdateConfig(parallelism=0, monitor=SECOND),
    )["ID"]
    rs.wait_running(api, sid, 2)
    before = rs.settled(api, sid)

    # labels only: everything else is kept (the first such update also
    # stores the defaults insertDefaults filled in, which makes the tasks
    # dirty in swarmkit too: they may be replaced once)
    api.update_service(sid, before["Version"]["Index"], labels={"keep": "me"}, fetch_current_spec=True)
    rs.wait_update_completed(api, sid)
    rs.wait_running(api, sid, 2)
    pids = rs.service_pids(sid)
    rs.update_service(api, sid, labels={"keep": "me", "new": "x"}, fetch_current_spec=True)
    assert any("insertDefaults" in e["url"] for e in rs.EXCHANGES), "the SDK fetches with insertDefaults"
    after = api.inspect_service(sid)
    rs.assert_paths(
        after,
        {
            "Spec.Labels": {"keep": "me", "new": "x"},
            "Spec.Name": "sdk-ll-fetch",
            "Spec.Mode": {"Replicated": {"Replicas": 2}},
            "Spec.TaskTemplate.ContainerSpec.Command": sh("echo fetched $V; exec sleep 1000"),
            "Spec.TaskTemplate.ContainerSpec.Env": ["V=a"],
            "Spec.TaskTemplate.ContainerSpec.Dir": "/tmp",
            "Spec.TaskTemplate.RestartPolicy.Condition": "on-failure",
            "Spec.TaskTemplate.RestartPolicy.MaxAttempts": 2,
            "Spec.TaskTemplate.RestartPolicy.Delay": SECOND,
            # the update config as created, completed by insertDefaults
            "Spec.UpdateConfig.Parallelism": 0,
            "Spec.UpdateConfig.Monitor": SECOND,
            "Spec.UpdateConfig.FailureAction": "continue",
            "Spec.UpdateConfig.Order": "stop-first",
            # what insertDefaults added comes back as sent
            "Spec.RollbackConfig.Parallelism": 1,
            "Spec.RollbackConfig.FailureAction": "pause",
            "Spec.RollbackConfig.Monitor": 5 * SECOND,
            "Spec.TaskTemplate.ContainerSpec.StopGracePeriod": 10 * SECOND,
        },
    )
    rs.wait_running(api, sid, 2)
    assert rs.service_pids(sid) == pids, "a labels-only update replaced the tasks"

    # a task template with only the env: merged into the current one
    rs.update_service(
        api,
        sid,
        task_template=TaskTemplate(ContainerSpec("busybox", env=["V=b"])),
        fetch_current_spec=True,
    )
    spec = api.inspect_service(sid)["Spec"]
    rs.assert_paths(
        spec,
        {
            "TaskTemplate.ContainerSpec.Env": ["V=b"],
            "TaskTemplate.ContainerSpec.Command": sh("echo fetched $V; exec sleep 1000"),
            "Labels": {"keep": "me", "new": "x"},
            "Mode": {"Replicated": {"Replicas": 2}},
        },
    )
    rs.wait_until("tasks with V=b", lambda: len(env_of(sid)) == 2 and all("V=b" in e for e in env_of(sid)))
    rs.wait_running(api, sid, 2)
    rs.wait_logs(api, sid, "fetched b")


def test_inspect_with_insert_defaults(api):
    sid = api.create_service(
        TaskTemplate(ContainerSpec("busybox", command=sh("exec sleep 1000"))),
        name="sdk-ll-defaults",
        mode={"Replicated": {"Replicas": 1}},
    )["ID"]
    plain = api.inspect_service(sid)["Spec"]
    assert "UpdateConfig" not in plain and "RollbackConfig" not in plain, plain
    full = api.inspect_service(sid, insert_defaults=True)["Spec"]
    rs.assert_paths(
        full,
        {
            "UpdateConfig": {"Parallelism": 1, "FailureAction": "pause", "Monitor": 5 * SECOND, "MaxFailureRatio": 0, "Order": "stop-first"},
            "RollbackConfig": {"Parallelism": 1, "FailureAction": "pause", "Monitor": 5 * SECOND, "MaxFailureRatio": 0, "Order": "stop-first"},
            "TaskTemplate.RestartPolicy.Condition": "any",
            "TaskTemplate.RestartPolicy.Delay": 5 * SECOND,
            "TaskTemplate.RestartPolicy.MaxAttempts": 0,
            "TaskTemplate.ContainerSpec.StopGracePeriod": 10 * SECOND,
        },
    )


def test_scale(api):
    sid = api.create_service(
        TaskTemplate(ContainerSpec("busybox", command=sh("exec sleep 1000"))),
        name="sdk-ll-scale",
        mode=ServiceMode("replicated", replicas=1),
    )["ID"]
    rs.wait_running(api, sid, 1)
    for n in (3, 0, 2):
        rs.update_service(api, sid, mode=ServiceMode("replicated", replicas=n), fetch_current_spec=True)
        assert api.inspect_service(sid)["Spec"]["Mode"] == {"Replicated": {"Replicas": n}}
        if n:
            rs.wait_running(api, sid, n)
        else:
            rs.wait_until("no running task", lambda: not rs.running_tasks(api, sid) and not rs.service_pids(sid))


def test_global_service_and_jobs(api):
    gid = api.create_service(
        TaskTemplate(ContainerSpec("busybox", command=sh("echo global; exec sleep 1000"))),
        name="sdk-ll-global",
        mode=ServiceMode("global"),
    )["ID"]
    assert rs.last_sent("/services/create")["Mode"] == {"global": {}}
    assert api.inspect_service(gid)["Spec"]["Mode"] == {"Global": {}}
    nodes = api.nodes()
    tasks = rs.wait_running(api, gid, len(nodes))
    assert sorted(t["NodeID"] for t in tasks) == sorted(n["ID"] for n in nodes)
    assert all(t.get("Slot", 0) == 0 for t in tasks)

    jid = api.create_service(
        TaskTemplate(ContainerSpec("busybox", command=sh("echo job-ran")), restart_policy=RestartPolicy(condition="none")),
        name="sdk-ll-job",
        mode=ServiceMode("replicated-job", replicas=2, concurrency=1),
    )["ID"]
    job = api.inspect_service(jid)
    assert job["Spec"]["Mode"] == {"ReplicatedJob": {"MaxConcurrent": 1, "TotalCompletions": 2}}
    assert "JobStatus" in job, job
    rs.wait_until(
        "2 completed job tasks",
        lambda: len([t for t in api.tasks(filters={"service": jid}) if t["Status"]["State"] == "complete"]) == 2,
    )
    assert rs.service_logs(api, jid).count("job-ran") == 2

    gjid = api.create_service(
        TaskTemplate(ContainerSpec("busybox", command=sh("echo global-job-ran")), restart_policy=RestartPolicy(condition="none")),
        name="sdk-ll-global-job",
        mode=ServiceMode("global-job"),
    )["ID"]
    assert api.inspect_service(gjid)["Spec"]["Mode"] == {"GlobalJob": {}}
    rs.wait_until(
        "the global job completes",
        lambda: [t["Status"]["State"] for t in api.tasks(filters={"service": gjid})] == ["complete"] * len(api.nodes()),
    )


def test_rollback_config_and_automatic_rollback(api):
    sid = api.create_service(
        TaskTemplate(ContainerSpec("busybox", command=sh("echo good $V; exec sleep 1000"), env=["V=good"], stop_grace_period=SECOND)),
        name="sdk-ll-autorb",
        mode=ServiceMode("replicated", replicas=2),
        update_config=UpdateConfig(parallelism=1, failure_action="rollback", monitor=2 * SECOND, max_failure_ratio=0),
        rollback_config=RollbackConfig(parallelism=2, failure_action="pause", monitor=SECOND, order="stop-first"),
    )["ID"]
    rs.wait_running(api, sid, 2)
    svc = rs.settled(api, sid)
    # low-level update_service(..., rollback_config=...): a new rollback config,
    # and a task template whose task fails at once
    api.update_service(
        sid,
        svc["Version"]["Index"],
        task_template=TaskTemplate(ContainerSpec("busybox", command=sh("echo bad; exit 3"), env=["V=bad"])),
        rollback_config=RollbackConfig(parallelism=0, failure_action="continue", monitor=SECOND, order="start-first"),
        fetch_current_spec=True,
    )
    spec = api.inspect_service(sid)["Spec"]
    rs.assert_paths(
        spec,
        {
            "RollbackConfig.Parallelism": 0,
            "RollbackConfig.FailureAction": "continue",
            "RollbackConfig.Monitor": SECOND,
            "RollbackConfig.Order": "start-first",
            "UpdateConfig.FailureAction": "rollback",
        },
    )
    rs.wait_until(
        "automatic rollback completes",
        lambda: (api.inspect_service(sid).get("UpdateStatus") or {}).get("State") == "rollback_completed",
        timeout=60,
    )
    back = api.inspect_service(sid)
    assert back["Spec"]["TaskTemplate"]["ContainerSpec"]["Env"] == ["V=good"]
    rs.wait_running(api, sid, 2)
    rs.wait_until("good tasks again", lambda: len(env_of(sid)) == 2 and all("V=good" in e for e in env_of(sid)))


def test_rollback_by_previous_spec_and_server_side(api):
    sid = api.create_service(
        TaskTemplate(ContainerSpec("busybox", command=sh("echo rev $V; exec sleep 1000"), env=["V=1"], stop_grace_period=SECOND)),
        name="sdk-ll-rb",
        labels={"rev": "1"},
        mode={"Replicated": {"Replicas": 1}},
    )["ID"]
    rs.wait_running(api, sid, 1)
    v = rs.settled(api, sid)["Version"]["Index"]
    api.update_service(sid, v, task_template=TaskTemplate(ContainerSpec("busybox", env=["V=2"])), labels={"rev": "2"}, fetch_current_spec=True)
    rs.wait_until("rev 2 runs", lambda: env_of(sid) and all("V=2" in e for e in env_of(sid)))

    # spec rollback, as an SDK user does it: send PreviousSpec back
    svc = rs.settled(api, sid)
    prev = svc["PreviousSpec"]
    assert prev["TaskTemplate"]["ContainerSpec"]["Env"] == ["V=1"] and prev["Labels"] == {"rev": "1"}
    api.update_service(
        sid,
        svc["Version"]["Index"],
        task_template=prev["TaskTemplate"],
        name=prev["Name"],
        labels=prev["Labels"],
        mode=prev["Mode"],
        update_config=prev.get("UpdateConfig"),
        rollback_config=prev.get("RollbackConfig"),
        endpoint_spec=prev.get("EndpointSpec"),
    )
    svc = api.inspect_service(sid)
    assert svc["Spec"]["TaskTemplate"]["ContainerSpec"]["Env"] == ["V=1"]
    assert svc["Spec"]["Labels"] == {"rev": "1"}
    assert svc["PreviousSpec"]["TaskTemplate"]["ContainerSpec"]["Env"] == ["V=2"]
    rs.wait_until("rev 1 runs again", lambda: env_of(sid) and all("V=1" in e for e in env_of(sid)))
    svc = rs.settled(api, sid)

    # the server-side rollback the docker CLI uses (rollback=previous), sent
    # with the SDK's own request machinery: Spec and PreviousSpec swap
    url = api._url("/services/{0}/update", sid)
    resp = api._post_json(url, data=svc["Spec"], params={"version": svc["Version"]["Index"], "rollback": "previous"})
    api._raise_for_status(resp)
    svc = api.inspect_service(sid)
    assert svc["Spec"]["TaskTemplate"]["ContainerSpec"]["Env"] == ["V=2"]
    assert svc["Spec"]["Labels"] == {"rev": "2"}
    assert svc["UpdateStatus"]["State"] in ("rollback_started", "rollback_completed"), svc["UpdateStatus"]
    rs.wait_until("rev 2 runs after the rollback", lambda: env_of(sid) and all("V=2" in e for e in env_of(sid)))
    rs.wait_until(
        "rollback completed",
        lambda: api.inspect_service(sid)["UpdateStatus"]["State"] == "rollback_completed",
    )
    rs.wait_logs(api, sid, "rev 2")


def test_logs_options(api):
    sid = api.create_service(
        TaskTemplate(ContainerSpec("busybox", command=sh("echo line-1; echo line-2; echo line-3; exec sleep 1000"))),
        name="sdk-ll-logs",
        mode={"Replicated": {"Replicas": 1}},
    )["ID"]
    rs.wait_running(api, sid, 1)
    text = rs.wait_logs(api, sid, "line-3")
    assert text.index("line-1") < text.index("line-2") < text.index("line-3")
    tail = rs.service_logs(api, sid, tail=1)
    assert "line-3" in tail and "line-1" not in tail, tail
    stamped = rs.service_logs(api, sid, timestamps=True).splitlines()
    assert all(len(line.split(" ", 1)[0]) == 30 and line[:4].isdigit() for line in stamped), stamped
    detailed = rs.service_logs(api, sid, details=True)
    assert "com.docker.swarm.service.id=" + sid in detailed, detailed
    assert rs.service_logs(api, sid, since=2**31 - 1) == ""
    # a streamed follow: the first line arrives
    stream = api.service_logs(sid, stdout=True, follow=True)
    try:
        first = next(iter(stream))
        assert b"line-1" in first, first
    finally:
        if hasattr(stream, "close"):
            stream.close()


def test_tasks_filters_and_inspect(api):
    sid = api.create_service(
        TaskTemplate(ContainerSpec("busybox", command=sh("exec sleep 1000"))),
        name="sdk-ll-tasks",
        mode={"Replicated": {"Replicas": 2}},
    )["ID"]
    rs.wait_running(api, sid, 2)
    by_id = api.tasks(filters={"service": sid})
    by_name = api.tasks(filters={"service": "sdk-ll-tasks"})
    assert sorted(t["ID"] for t in by_id) == sorted(t["ID"] for t in by_name) and len(by_id) == 2
    running = api.tasks(filters={"service": sid, "desired-state": "running"})
    assert len(running) == 2 and all(t["NodeID"] for t in running)
    on_node = api.tasks(filters={"service": sid, "node": running[0]["NodeID"]})
    assert on_node and all(t["ServiceID"] == sid and t["NodeID"] == running[0]["NodeID"] for t in on_node)
    t = api.inspect_task(running[0]["ID"])
    assert t["ID"] == running[0]["ID"] and t["Status"]["State"] == "running" and t["DesiredState"] == "running"
    assert t["Status"]["ContainerStatus"]["PID"] in rs.service_pids(sid)
    with pytest.raises(docker.errors.NotFound):
        api.inspect_task("nosuchtask")


def test_remove_service(api):
    sid = api.create_service(
        TaskTemplate(ContainerSpec("busybox", command=sh("exec sleep 1000"), stop_grace_period=SECOND)),
        name="sdk-ll-rm",
        mode={"Replicated": {"Replicas": 2}},
    )["ID"]
    rs.wait_running(api, sid, 2)
    assert api.remove_service(sid) is True
    with pytest.raises(docker.errors.NotFound) as e:
        api.inspect_service(sid)
    assert f"service {sid} not found" in rs.api_error(e)[1]
    assert sid not in [s["ID"] for s in api.services()]
    rs.wait_no_processes(sid)
    rs.wait_until("its tasks are gone", lambda: not [t for t in api.tasks() if t["ServiceID"] == sid])
    with pytest.raises(docker.errors.NotFound):
        api.remove_service(sid)


def test_service_errors(api):
    tt = TaskTemplate(ContainerSpec("busybox", command=sh("exec sleep 1000")))
    sid = api.create_service(tt, name="sdk-ll-err", mode={"Replicated": {"Replicas": 1}})["ID"]
    with pytest.raises(docker.errors.APIError) as e:
        api.create_service(tt, name="sdk-ll-err", mode={"Replicated": {"Replicas": 1}})
    status, message = rs.api_error(e)
    assert status == 409 and "already exists" in message, (status, message)
    v = rs.settled(api, sid)["Version"]["Index"]
    with pytest.raises(docker.errors.APIError) as e:
        api.update_service(sid, v, name="sdk-ll-renamed", fetch_current_spec=True)
    status, message = rs.api_error(e)
    assert status == 501 and "renaming services is not supported" in message, (status, message)
    with pytest.raises(docker.errors.APIError) as e:
        api.update_service(sid, v, mode={"Global": {}}, fetch_current_spec=True)
    status, message = rs.api_error(e)
    assert status == 501 and "service mode change is not allowed" in message, (status, message)
    api.update_service(sid, v, labels={"a": "b"}, fetch_current_spec=True)
    with pytest.raises(docker.errors.APIError) as e:
        api.update_service(sid, v, labels={"a": "c"}, fetch_current_spec=True)
    assert "update out of sequence" in rs.api_error(e)[1]
    assert api.inspect_service(sid)["Spec"]["Labels"] == {"a": "b"}
    with pytest.raises(docker.errors.DockerException):
        api.create_service({"ContainerSpec": {}}, name="no-image")  # the SDK refuses it itself
