"""Shared helpers of the Python Docker SDK suite: private rswarm daemons,
an SDK client that records every exchange (shown when a test fails),
bounded polling, spec comparison and task process lookups in /proc."""

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import docker
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Bounded waits (seconds): a daemon's socket, tasks reaching a state.
START_TIMEOUT = 20
TASK_TIMEOUT = 30

# Every request the SDK clients of this suite made during the current test.
EXCHANGES = []

SECOND = 1_000_000_000


def rswarm_bin():
    """The binary under test: $RSWARM_BIN, else debug/rswarm under cargo's
    target directory ($CARGO_TARGET_DIR or target/; built when missing)."""
    target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")
    path = os.environ.get("RSWARM_BIN") or os.path.join(target, "debug", "rswarm")
    if not os.path.exists(path):
        subprocess.run(
            ["cargo", "build", "-p", "rswarm", "--bin", "rswarm"], cwd=ROOT, check=True
        )
    return path


def free_port(ip="127.0.0.1"):
    """A TCP port that was free a moment ago."""
    with socket.socket() as s:
        s.bind((ip, 0))
        return s.getsockname()[1]


def wait_until(what, cond, timeout=TASK_TIMEOUT, interval=0.1):
    """Polls `cond` until it returns a truthy value (returned) or `timeout`
    seconds pass (the test fails, naming `what` and the last value)."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = cond()
        if last:
            return last
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for: {what} (last: {last!r})")
        time.sleep(interval)


def _record(response, *args, **kwargs):
    req = response.request
    body = req.body
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    ctype = response.headers.get("Content-Type", "")
    if ctype.startswith("application/json") or response.status_code >= 400:
        text = response.text
    else:
        text = f"<{ctype or 'no content type'} body not captured>"
    EXCHANGES.append(
        {
            "method": req.method,
            "url": req.url.replace("http+docker://localhost", ""),
            "body": body,
            "status": response.status_code,
            "response": text,
        }
    )
    return response


def api_client(sock, **kwargs):
    """A low-level `docker.APIClient` on `sock` whose exchanges are recorded."""
    c = docker.APIClient(base_url=f"unix://{sock}", timeout=30, **kwargs)
    c.hooks["response"].append(_record)
    return c


def docker_client(sock, **kwargs):
    """A high-level `docker.DockerClient` on `sock` whose exchanges are recorded."""
    c = docker.DockerClient(base_url=f"unix://{sock}", timeout=30, **kwargs)
    c.api.hooks["response"].append(_record)
    return c


def format_exchanges(limit=25):
    """The last `limit` exchanges, failed ones marked, for a failure report."""
    lines = []
    for e in EXCHANGES[-limit:]:
        mark = "!!" if e["status"] >= 400 else "  "
        lines.append(f"{mark} {e['method']} {e['url']} -> {e['status']}")
        if e["body"]:
            lines.append(f"     request:  {_clip(e['body'])}")
        if e["status"] >= 400 or e["method"] != "GET":
            lines.append(f"     response: {_clip(e['response'])}")
    return "\n".join(lines)


def _clip(text, n=3000):
    text = str(text).strip()
    return text if len(text) <= n else text[:n] + f"... ({len(text)} chars)"


class Daemon:
    """One private `rswarm daemon` (process runtime) with its own temp dir,
    socket and data root; stopped by PID only."""

    def __init__(self, hostname):
        self.hostname = hostname
        self.dir = tempfile.mkdtemp(prefix="rswarm-sdk-")
        self.sock = os.path.join(self.dir, "rswarm.sock")
        self.data_root = os.path.join(self.dir, "data")
        self.log_path = os.path.join(self.dir, "daemon.log")
        self.proc = None
        self.node_ids = set()
        self.swarm_addr = None

    def start(self):
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(
                [
                    rswarm_bin(), "daemon",
                    "-H", f"unix://{self.sock}",
                    "--data-root", self.data_root,
                    "--hostname", self.hostname,
                    "--runtime", "process",
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        finally:
            log.close()
        wait_until(f"daemon {self.hostname} answers /_ping", self._pings, START_TIMEOUT)
        return self

    def _pings(self):
        if self.proc.poll() is not None:
            pytest.fail(f"daemon {self.hostname} exited with {self.proc.returncode}:\n{self.log()}")
        if not os.path.exists(self.sock):
            return False
        try:
            return docker.APIClient(base_url=f"unix://{self.sock}", version="1.24", timeout=2).ping()
        except Exception:
            return False

    def api(self, **kwargs):
        return api_client(self.sock, **kwargs)

    def client(self, **kwargs):
        return docker_client(self.sock, **kwargs)

    def remember_node(self):
        """Records this daemon's node ID (for cleaning up its task processes)."""
        node_id = self.api().info()["Swarm"]["NodeID"]
        if node_id:
            self.node_ids.add(node_id)
        return node_id

    def log(self):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()[-8000:]
        except OSError:
            return ""

    def stop(self):
        """SIGTERM, then SIGKILL after 30 s; then kills task processes of this
        daemon's nodes that survived (found by RSWARM_NODE_ID) and removes the
        temp dir."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        for node_id in self.node_ids:
            for pid in pids_with_env("RSWARM_NODE_ID", node_id):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        shutil.rmtree(self.dir, ignore_errors=True)


def pids_with_env(key, value):
    """PIDs of live (non-zombie) processes whose environment has KEY=value."""
    needle = f"{key}={value}".encode()
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                env = f.read().split(b"\0")
            with open(f"/proc/{entry}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if needle in env and state not in ("Z", "X"):
            pids.append(int(entry))
    return pids


def ppid(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def service_pids(service_id):
    """Main processes of a service's tasks (not their children)."""
    pids = pids_with_env("RSWARM_SERVICE_ID", service_id)
    return sorted(p for p in pids if ppid(p) not in pids)


def proc_env(pid):
    with open(f"/proc/{pid}/environ", "rb") as f:
        return [kv.decode("utf-8", "replace") for kv in f.read().split(b"\0") if kv]


def proc_uid(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Uid:"):
                return int(line.split()[1])
    return None


def get_path(obj, path):
    """`obj` at a dotted path like `Spec.TaskTemplate.ContainerSpec.Env`
    (None when missing)."""
    for part in path.split("."):
        if isinstance(obj, dict):
            obj = obj.get(part)
        elif isinstance(obj, list) and part.isdigit() and int(part) < len(obj):
            obj = obj[int(part)]
        else:
            return None
    return obj


def assert_paths(obj, expected, what="spec", omitempty=False):
    """Asserts each `path: value` of `expected` in `obj`, reporting every
    mismatch at once. With `omitempty`, a zero value (false, 0, "", [], {})
    also matches a missing field, as Docker's `omitempty` encoding leaves
    zero values out."""
    bad = []
    for path, want in expected.items():
        got = get_path(obj, path)
        if got == want or (omitempty and got is None and want in (False, 0, "", [], {})):
            continue
        bad.append(f"{path}: sent {want!r}, read back {got!r}")
    assert not bad, f"{what} read back differs from what was sent:\n  " + "\n  ".join(bad)


# Fields whose value is a user map (keys may hold dots): compared whole.
MAP_FIELDS = {"Labels", "Sysctls", "Options", "DriverOpts"}


def sent_paths(sent, prefix=""):
    """Every leaf of a request body as `path: value`, skipping nulls (unset
    in Go). Lists and user maps are leaves."""
    out = {}
    for key, value in sent.items():
        path = f"{prefix}{key}"
        if value is None:
            continue
        if isinstance(value, dict) and value and key not in MAP_FIELDS:
            out.update(sent_paths(value, path + "."))
        else:
            out[path] = value
    return out


def running_tasks(api, service_id):
    return [
        t for t in api.tasks(filters={"service": service_id})
        if t["Status"]["State"] == "running" and t["DesiredState"] == "running"
    ]


def wait_running(api, service_id, n, timeout=TASK_TIMEOUT):
    """Waits until exactly `n` tasks of the service are running (desired and
    actual) and `n` task processes exist; returns the tasks."""

    def check():
        tasks = running_tasks(api, service_id)
        if len(tasks) == n and len(service_pids(service_id)) == n:
            return tasks
        return None

    return wait_until(f"{n} running task(s) of service {service_id}", check, timeout)


def wait_no_processes(service_id, timeout=TASK_TIMEOUT):
    wait_until(
        f"task processes of {service_id} to exit",
        lambda: not service_pids(service_id),
        timeout,
    )
    return True


def service_logs(api, service_id, **kwargs):
    """The whole (non-follow) log of a service as text."""
    kwargs.setdefault("stdout", True)
    kwargs.setdefault("stderr", True)
    chunks = api.service_logs(service_id, **kwargs)
    if isinstance(chunks, (bytes, str)):
        chunks = [chunks]
    out = b"".join(c if isinstance(c, bytes) else c.encode() for c in chunks)
    return out.decode("utf-8", "replace")


def wait_logs(api, service_id, needle, timeout=TASK_TIMEOUT, **kwargs):
    return wait_until(
        f"{needle!r} in the logs of {service_id}",
        lambda: (lambda text: text if needle in text else None)(service_logs(api, service_id, **kwargs)),
        timeout,
        interval=0.3,
    )


def api_error(excinfo):
    """`(status, message)` of an APIError."""
    e = excinfo.value
    return e.response.status_code, (e.explanation or "")


def dumps(obj):
    return json.dumps(obj, sort_keys=True)


def last_sent(url_part, method="POST"):
    """The JSON body of the last request of this test whose URL contains
    `url_part`."""
    for e in reversed(EXCHANGES):
        if e["method"] == method and url_part in e["url"]:
            return json.loads(e["body"]) if e["body"] else None
    raise AssertionError(f"no {method} {url_part} was sent")


def spec_paths(sent):
    """`sent_paths` of a ServiceSpec as Docker reads it back: the SDK's
    lower-case mode keys (`replicated`, `global`) are Docker's `Replicated`
    and `Global` (Go decodes keys case-insensitively)."""
    out = {}
    for path, value in sent_paths(sent).items():
        parts = path.split(".")
        if parts[0] == "Mode" and len(parts) > 1:
            parts[1] = {"replicated": "Replicated", "global": "Global"}.get(parts[1], parts[1])
        if parts[0] == "Networks":  # the deprecated field moves to TaskTemplate
            continue
        out[".".join(parts)] = value
    return out


def assert_spec_sent(spec, sent, what="service spec"):
    """Every value the SDK sent is what inspect reads back (zero values may
    be omitted, as Docker does)."""
    assert_paths(spec, spec_paths(sent), what, omitempty=True)


def settled(api, service_id, timeout=TASK_TIMEOUT):
    """The service once no update or rollback is in progress (the updater
    bumps the version as it goes, so an update must start from this)."""

    def check():
        s = api.inspect_service(service_id)
        state = (s.get("UpdateStatus") or {}).get("State")
        return s if state in (None, "", "completed", "rollback_completed", "paused", "rollback_paused") else None

    return wait_until(f"service {service_id} has no update in progress", check, timeout)


def wait_update_completed(api, service_id, timeout=TASK_TIMEOUT):
    """The service once its rolling update has completed."""
    return wait_until(
        f"the update of {service_id} completes",
        lambda: (lambda s: s if (s.get("UpdateStatus") or {}).get("State") == "completed" else None)(
            api.inspect_service(service_id)
        ),
        timeout,
    )


def update_service(api, service_id, attempts=5, **kwargs):
    """`api.update_service` at the service's current version, retried when
    the updater wrote in between ("update out of sequence", optimistic
    concurrency as in Docker)."""
    for attempt in range(attempts):
        version = api.inspect_service(service_id)["Version"]["Index"]
        try:
            return api.update_service(service_id, version, **kwargs)
        except docker.errors.APIError as e:
            if "update out of sequence" not in (e.explanation or "") or attempt == attempts - 1:
                raise
            time.sleep(0.2)
