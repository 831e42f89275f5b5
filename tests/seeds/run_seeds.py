#!/usr/bin/env python3
# Runs the Python seed scripts (other Managed-Agents-compatible servers' published examples, with
# only the base URL and key changed) against a private vivariumd on loopback, prints each
# script's output for the CI log, and checks what the output and the servers show.
#
#   run_seeds.py agents    Sandbox0's Claude SDK page and SandBase's agents overview: no VMs,
#                          two scripted model servers (tests/provider/scripted-provider.mjs):
#                          the server's own default endpoint and the one a Sandbox0 LLM vault
#                          names, so the request reaching one proves which configuration chose it.
#   run_seeds.py sandbox   SandBase's raw-sandbox quick start: a real code_interpreter VM.
#
# Environment: VIVARIUMD (the binary; default <repo>/build/bin/vivariumd), VIVARIUM_NODE (node,
# for the scripted provider), VIVARIUM_TEST_ARTIFACTS / VIVARIUM_TEST_SECRETS (as the other API
# tests: the data dir and server log are kept there, the secrets sent are listed for
# `secret_scan`). Run it inside tests/run-with-keyring.sh (vivariumd keeps keys in the keychain).
# Uses Debian's python3 and python3-requests, nothing else.
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))

try:
    import requests
except ImportError as e:
    sys.exit(f"FAIL: Python's `requests` is missing ({e}); install Debian's python3-requests "
             "(installer/setup.sh --test does) and run this with that python3")

FAILURES = []


def check(condition, what):
    print(f"  {'ok  ' if condition else 'FAIL'} {what}", flush=True)
    if not condition:
        FAILURES.append(what)
    return condition


def record_secret(value):
    path = os.environ.get("VIVARIUM_TEST_SECRETS")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(value + "\n")
    return value


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Process:
    """A child whose combined output is drained into memory (and a file) by a thread."""

    def __init__(self, argv, env, log_path=None):
        self.proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        self.output = []
        self.log_path = log_path
        self.changed = threading.Condition()
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()

    def _drain(self):
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace")
            with self.changed:
                self.output.append(line)
                self.changed.notify_all()
        with self.changed:
            self.changed.notify_all()

    def text(self):
        with self.changed:
            return "".join(self.output)

    def wait_for(self, pattern, timeout):
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                m = re.search(pattern, "".join(self.output))
                if m:
                    return m
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self.thread.is_alive()):
                    return None
                self.changed.wait(min(left, 0.5))

    def stop(self, grace=60):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.thread.join(5)
        if self.log_path:
            with open(self.log_path, "w", encoding="utf-8") as f:
                f.write(self.text())
        return self.proc.returncode


class ScriptedProvider:
    def __init__(self):
        node = os.environ.get("VIVARIUM_NODE") or "node"
        script = os.path.join(REPO, "tests", "provider", "scripted-provider.mjs")
        self.process = Process([node, script, "--port", "0"], dict(os.environ))
        m = self.process.wait_for(r"listening on (http://\S+)", 30)
        if not m:
            raise RuntimeError(f"the scripted provider did not start:\n{self.process.text()}")
        self.url = m.group(1)

    def control(self, name, body=None):
        r = requests.post(f"{self.url}/_control/{name}", json=body or {}, timeout=10)
        r.raise_for_status()
        return r.json()

    def enqueue(self, *replies):
        self.control("enqueue", {"replies": list(replies)})

    def received(self):
        return self.control("requests")

    def close(self):
        self.process.stop(5)


class Vivariumd:
    def __init__(self, env, name):
        binary = os.environ.get("VIVARIUMD") or os.path.join(REPO, "build", "bin", "vivariumd")
        if not os.path.exists(binary):
            raise RuntimeError(f"vivariumd not found at {binary} (set VIVARIUMD)")
        artifacts = os.environ.get("VIVARIUM_TEST_ARTIFACTS")
        if artifacts:
            os.makedirs(artifacts, exist_ok=True)
        self.keep = bool(artifacts)
        self.data_dir = tempfile.mkdtemp(prefix=f"vivarium-seeds-{name}-", dir=artifacts or None)
        # The server's own key is a secret too: never in its log, database or VM disks.
        self.api_key = record_secret(f"viv-seed-{secrets.token_hex(16)}")
        server_env = dict(os.environ)
        server_env.update({
            "VIVARIUM_API_KEY": self.api_key,
            "VIVARIUM_KEYCHAIN_SERVICE": os.environ.get("VIVARIUM_KEYCHAIN_SERVICE") or "vivarium-seed-test",
            # Keep the server away from any real model vendor unless the caller points it somewhere.
            "ANTHROPIC_BASE_URL": "http://127.0.0.1:9",
            "ANTHROPIC_API_KEY": "",
            "OPENAI_BASE_URL": "http://127.0.0.1:9",
            "OPENAI_API_KEY": "",
        })
        server_env.update(env)
        last = None
        for _ in range(5):  # the port may be taken between the probe and the bind: retry
            port = free_port()
            self.process = Process([binary, "--listen", f"127.0.0.1:{port}", "--data-dir", self.data_dir],
                                   server_env, log_path=f"{self.data_dir}.log" if self.keep else None)
            m = self.process.wait_for(r"listening on (http://\S+)", 30)
            if m:
                self.base_url = m.group(1).rstrip("/")
                return
            last = self.process.text()
            self.process.stop(5)
        raise RuntimeError(f"vivariumd did not start:\n{last}")

    def log(self):
        return self.process.text()

    def stop(self):
        rc = self.process.stop(60)
        if not self.keep:
            shutil.rmtree(self.data_dir, ignore_errors=True)
        return rc


def run_seed(script, env, timeout, server, cwd=None):
    """Runs a seed script with this interpreter; prints its output between markers."""
    name = os.path.basename(script)
    child_env = dict(os.environ)
    child_env.update(env)
    child_env["PYTHONPATH"] = HERE  # anthropic_requests.py
    child_env["PYTHONUNBUFFERED"] = "1"
    child_env["PYTHONDONTWRITEBYTECODE"] = "1"  # no __pycache__ in the source tree
    print(f"\n===== {name}: output =====", flush=True)
    started = time.monotonic()
    try:
        done = subprocess.run([sys.executable, os.path.join(HERE, script)], env=child_env, cwd=cwd or HERE,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
        output, rc = done.stdout.decode("utf-8", "replace"), done.returncode
    except subprocess.TimeoutExpired as e:
        output, rc = (e.stdout or b"").decode("utf-8", "replace"), None
    sys.stdout.write(output)
    print(f"===== {name}: {'timed out after %d s' % timeout if rc is None else 'exit status %d' % rc}"
          f" ({time.monotonic() - started:.1f} s) =====", flush=True)
    if not check(rc == 0, f"{name} runs to the end (exit status 0)"):
        tail = server.log().splitlines()[-40:]
        print("----- vivariumd log, last lines -----\n" + "\n".join(tail), flush=True)
    return output


def last_user_text(body):
    content = body["messages"][-1]["content"]
    if isinstance(content, str):
        return content
    return "".join(b.get("text", "") for b in content if b.get("type") == "text")


def seeds_agents():
    gateway = ScriptedProvider()
    vault_model = ScriptedProvider()
    gateway_key = record_secret(f"sk-ant-gateway-{secrets.token_hex(12)}")
    vault_key = record_secret(f"sk-s0-model-{secrets.token_hex(12)}")
    server = Vivariumd({"ANTHROPIC_BASE_URL": gateway.url, "ANTHROPIC_API_KEY": gateway_key,
                        "VIVARIUM_SANDBOX_TOOLS": "0"}, "agents")
    try:
        # (a) Sandbox0: the model key lives in an LLM vault; the reply comes from the vault's URL.
        # A delay: the script opens the stream after sending, as the published code does.
        vault_model.enqueue({"text": "Hello from Sandbox0 managed agents.", "delay_ms": 1500})
        out = run_seed("sandbox0_claude_sdk.py", {
            "SANDBOX0_MANAGED_AGENTS_URL": server.base_url,
            "SANDBOX0_API_KEY": server.api_key,
            "ANTHROPIC_BASE_URL": vault_model.url,
            "ANTHROPIC_API_KEY": vault_key,
        }, timeout=120, server=server)
        check("'text': 'Hello from Sandbox0 managed agents.'" in out, "the agent's reply is printed")
        reqs = vault_model.received()
        check(len(reqs) == 1, f"the vault's llm_base_url got the turn (requests: {len(reqs)})")
        if reqs:
            r = reqs[0]
            check(r["path"] == "/v1/messages", f"engine claude → Anthropic Messages format ({r['path']})")
            check(r["headers"].get("x-api-key") == vault_key, "the model key is the vault's static_bearer token")
            check(r["body"]["model"] == "claude-sonnet-4-20250514", f"model {r['body']['model']}")
            check(r["body"].get("system") == "Reply in one short sentence.", "the agent's system prompt")
            check(last_user_text(r["body"]) == "Say hello from Sandbox0 managed agents.", "the user's text")
        check(not gateway.received(), "the server's default endpoint was not used")

        # (b) SandBase: the server's own default endpoint ("LLM gateway") answers.
        gateway.enqueue({"text": "Here is the summary report.", "delay_ms": 1500})
        out = run_seed("sandbase_agents.py", {
            "VIVARIUM_BASE_URL": server.base_url,
            "VIVARIUM_API_KEY": server.api_key,
        }, timeout=120, server=server)
        check("Here is the summary report." in out.splitlines(), "the agent's reply is printed")
        reqs = gateway.received()
        check(len(reqs) == 1, f"the server's default endpoint got the turn (requests: {len(reqs)})")
        if reqs:
            r = reqs[0]
            check(r["path"] == "/v1/messages", f"Anthropic Messages format ({r['path']})")
            check(r["headers"].get("x-api-key") == gateway_key, "the server's own model key")
            check(r["body"]["model"] == "claude-sonnet-4", f"model {r['body']['model']}")
            check(last_user_text(r["body"]) == "Analyze the sales data and create a summary report.",
                  "the string content reached the model as the user's text")
            names = [t.get("name", "") for t in r["body"].get("tools") or []]
            check(not any("web-search" in n or "mcp" in n for n in names),
                  f"no MCP tool is offered (no MCP client yet): {names}")
        check(len(vault_model.received()) == 1, "the Sandbox0 vault's endpoint got nothing more")
    finally:
        rc = server.stop()
        gateway.close()
        vault_model.close()
    log = server.log()
    check(vault_key not in log and gateway_key not in log, "no model key in the server log")
    check(rc == 0, f"vivariumd exits cleanly on SIGTERM (status {rc})")


DATA_CSV = "region,units,price\nnorth,12,2.5\nsouth,7,3.0\neast,21,1.75\nwest,15,2.25\n"


def seeds_sandbox():
    server = Vivariumd({}, "sandbox")
    workdir = tempfile.mkdtemp(prefix="vivarium-seed-cwd-")
    try:
        with open(os.path.join(workdir, "data.csv"), "w", encoding="utf-8") as f:
            f.write(DATA_CSV)
        print("data.csv in the script's directory:\n" + DATA_CSV, flush=True)
        # The first code_interpreter sandbox builds its package layer (pandas, NumPy, SciPy,
        # Matplotlib from Debian) inside a VM: minutes under TCG on a cold image cache.
        out = run_seed("sandbase_sandboxes_quickstart.py", {
            "VIVARIUM_BASE_URL": server.base_url,
            "VIVARIUM_API_KEY": server.api_key,
        }, timeout=2400, server=server, cwd=workdir)
        lines = out.splitlines()
        check(bool(lines) and re.fullmatch(r"\d+\.\d+(\.\d+)?\S*", lines[0].strip()) is not None,
              f"step 2 prints pandas' version from inside the VM ({lines[0].strip() if lines else ''!r})")
        check("Rows: 4, Columns: ['region', 'units', 'price']" in lines,
              "step 4 reads the uploaded data.csv with pandas")
        # describe(): mean units (12+7+21+15)/4 = 13.75, mean price 2.375, max units 21.
        mean = next((l for l in lines if l.startswith("mean")), "")
        try:
            means = [float(v) for v in mean.split()[1:]]
        except ValueError:
            means = []
        check(means == [13.75, 2.375], f"describe() computed in the VM: {mean!r}")

        # Beyond the script: the sandbox it left, and the file it uploaded, read back.
        auth = {"Authorization": f"Bearer {server.api_key}"}
        listed = requests.get(f"{server.base_url}/sandboxes", headers=auth, timeout=30).json()["data"]
        ours = [s for s in listed if s.get("templateID") == "code_interpreter"]
        check(len(ours) == 1, f"one code_interpreter sandbox is listed ({len(ours)})")
        if ours:
            sid = ours[0]["sandboxID"]
            got = requests.get(f"{server.base_url}/sandboxes/{sid}/files/content", headers=auth,
                               params={"path": "/workspace/data.csv"}, timeout=120)
            check(got.status_code == 200 and got.content == DATA_CSV.encode(),
                  f"GET /sandboxes/{sid}/files/content gives back the uploaded bytes ({got.status_code})")
            gone = requests.delete(f"{server.base_url}/sandboxes/{sid}", headers=auth, timeout=120)
            check(gone.status_code == 200 and gone.json().get("deleted") is True, "the sandbox is deleted")
    finally:
        rc = server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    check(rc == 0, f"vivariumd exits cleanly on SIGTERM (status {rc})")


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    if mode not in ("agents", "sandbox"):
        sys.exit("usage: run_seeds.py agents|sandbox")
    print(f"python {sys.version.split()[0]} ({sys.executable}), requests {requests.__version__} "
          f"({requests.__file__})", flush=True)
    for name in ("VIVARIUM_SANDBOX_TOOLS", "VIVARIUM_IMAGE_DIR", "VIVARIUM_SANDBOX_ACCEL", "VIVARIUM_WARM_POOL"):
        print(f"{name}={os.environ.get(name, '(unset)')}", flush=True)
    try:
        seeds_agents() if mode == "agents" else seeds_sandbox()
    except Exception as e:  # a crash of the harness itself is a failure too, with its reason
        FAILURES.append(f"{type(e).__name__}: {e}")
        raise
    finally:
        if FAILURES:
            print(f"\n{len(FAILURES)} check(s) failed:\n  - " + "\n  - ".join(FAILURES), flush=True)
    if FAILURES:
        sys.exit(1)
    print("\nall checks passed", flush=True)


if __name__ == "__main__":
    main()
