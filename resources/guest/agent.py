#!/usr/bin/python3 -S
"""Vivarium guest agent.

Speaks newline-delimited JSON over the virtio-serial port named `vivarium.agent`.
One request per line: {"id": N, "op": "...", ...}. Replies carry the same id.
Binary payloads are base64. Single-threaded: a selector multiplexes the port,
child pipes and a SIGCHLD wake-up pipe, so many execs run concurrently.

Ops: hello, exec, stdin, kill, read, write, list, stat, mkdir, remove.
"""
import base64
import errno
import fcntl
import json
import os
import selectors
import signal
import stat as st
import subprocess
import sys
import time

VERSION = 1
PORT_NAME = "vivarium.agent"
DEFAULT_MAX_OUTPUT = 8 * 1024 * 1024
B64 = base64.b64encode


def find_port():
    base = "/sys/class/virtio-ports"
    for _ in range(500):
        try:
            for entry in os.listdir(base):
                try:
                    with open(os.path.join(base, entry, "name")) as f:
                        if f.read().strip() == PORT_NAME:
                            return "/dev/" + entry
                except OSError:
                    pass
        except OSError:
            pass
        time.sleep(0.01)
    raise SystemExit("vivarium-agent: no virtio port named " + PORT_NAME)


class Proc:
    __slots__ = ("rid", "popen", "stream", "out", "err", "deadline", "timed_out",
                 "max_output", "truncated", "open_fds", "exited_at", "status")

    def __init__(self, rid, popen, stream, deadline, max_output):
        self.rid = rid
        self.popen = popen
        self.stream = stream
        self.out = bytearray()
        self.err = bytearray()
        self.deadline = deadline
        self.timed_out = False
        self.max_output = max_output
        self.truncated = False
        self.open_fds = 0
        self.exited_at = None
        self.status = None


class Agent:
    def __init__(self, path):
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
        self.sel = selectors.DefaultSelector()
        self.buf = b""
        self.procs = {}       # rid -> Proc
        self.by_pid = {}      # pid -> Proc
        self.fd_owner = {}    # pipe fd -> (Proc, 1|2)
        r, w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self.wake_r = r
        signal.set_wakeup_fd(w)
        signal.signal(signal.SIGCHLD, lambda *a: None)
        self.sel.register(self.fd, selectors.EVENT_READ, "port")
        self.sel.register(self.wake_r, selectors.EVENT_READ, "wake")

    # -- output ---------------------------------------------------------------
    def send(self, obj):
        data = json.dumps(obj, separators=(",", ":")).encode() + b"\n"
        view = memoryview(data)
        while view:
            try:
                n = os.write(self.fd, view)
                view = view[n:]
            except InterruptedError:
                pass
            except BlockingIOError:
                time.sleep(0.001)

    def reply(self, rid, **kw):
        kw["id"] = rid
        kw.setdefault("type", "result")
        self.send(kw)

    def error(self, rid, message, code=None):
        self.send({"id": rid, "type": "error", "message": message,
                   "errno": errno.errorcode.get(code, "") if code else ""})

    # -- main loop ------------------------------------------------------------
    def run(self):
        self.send({"id": 0, "type": "ready", "version": VERSION})
        while True:
            timeout = self.next_timeout()
            for key, _ in self.sel.select(timeout):
                tag = key.data
                if tag == "port":
                    self.read_port()
                elif tag == "wake":
                    try:
                        while os.read(self.wake_r, 512):
                            pass
                    except (BlockingIOError, InterruptedError):
                        pass
                else:
                    if key.fd in self.fd_owner:
                        self.read_pipe(key.fd)
            self.reap()
            self.check_deadlines()

    def next_timeout(self):
        now = time.monotonic()
        t = None
        for p in self.procs.values():
            for d in (p.deadline, p.exited_at + 0.05 if p.exited_at else None):
                if d is not None:
                    t = d - now if t is None else min(t, d - now)
        return None if t is None else max(0.0, t)

    def read_port(self):
        try:
            data = os.read(self.fd, 1 << 20)
        except (BlockingIOError, InterruptedError):
            return
        if not data:
            # Host side not connected: virtio-serial reports EOF. Wait a little.
            time.sleep(0.05)
            return
        self.buf += data
        while True:
            nl = self.buf.find(b"\n")
            if nl < 0:
                break
            line, self.buf = self.buf[:nl], self.buf[nl + 1:]
            if not line.strip():
                continue
            try:
                req = json.loads(line)
            except ValueError:
                self.error(-1, "malformed request line")
                continue
            rid = req.get("id", -1)
            op = req.get("op")
            handler = getattr(self, "op_" + str(op), None)
            if handler is None:
                self.error(rid, "unknown op %r" % op)
                continue
            try:
                handler(rid, req)
            except OSError as e:
                self.error(rid, "%s: %s" % (e.strerror or e, e.filename or ""), e.errno)
            except Exception as e:  # a bad request must never kill the agent
                self.error(rid, "%s: %s" % (type(e).__name__, e))

    # -- processes ------------------------------------------------------------
    def op_hello(self, rid, req):
        self.reply(rid, type="ready", version=VERSION)

    def op_exec(self, rid, req):
        argv = req.get("argv") or []
        if not argv:
            return self.error(rid, "argv is empty")
        env = None
        if req.get("env") is not None or req.get("clear_env"):
            env = {} if req.get("clear_env") else dict(os.environ)
            env.update({str(k): str(v) for k, v in (req.get("env") or {}).items()})
        cwd = req.get("cwd") or "/workspace"
        keep_stdin = bool(req.get("keep_stdin"))
        stdin_data = base64.b64decode(req["stdin"]) if req.get("stdin") else b""
        try:
            popen = subprocess.Popen(
                argv, cwd=cwd, env=env,
                stdin=subprocess.PIPE if (keep_stdin or stdin_data) else subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                start_new_session=True, close_fds=True)
        except OSError as e:
            return self.error(rid, "cannot start %s: %s" % (argv[0], e.strerror), e.errno)
        timeout_ms = req.get("timeout_ms") or 0
        deadline = time.monotonic() + timeout_ms / 1000.0 if timeout_ms > 0 else None
        p = Proc(rid, popen, bool(req.get("stream")), deadline,
                 int(req.get("max_output") or DEFAULT_MAX_OUTPUT))
        self.procs[rid] = p
        self.by_pid[popen.pid] = p
        for f, which in ((popen.stdout, 1), (popen.stderr, 2)):
            os.set_blocking(f.fileno(), False)
            self.fd_owner[f.fileno()] = (p, which)
            self.sel.register(f.fileno(), selectors.EVENT_READ, "pipe")
            p.open_fds += 1
        if popen.stdin is not None:
            if stdin_data:
                self.write_stdin(popen, stdin_data)
            if not keep_stdin:
                self.close_stdin(popen)
        if keep_stdin:
            self.reply(rid, type="started", pid=popen.pid)

    def write_stdin(self, popen, data):
        fd = popen.stdin.fileno()
        view = memoryview(data)
        while view:
            try:
                n = os.write(fd, view)
                view = view[n:]
            except InterruptedError:
                pass
            except BrokenPipeError:
                return False
        return True

    def close_stdin(self, popen):
        try:
            popen.stdin.close()
        except OSError:
            pass

    def op_stdin(self, rid, req):
        p = self.procs.get(req.get("target"))
        if p is None or p.popen.stdin is None or p.popen.stdin.closed:
            return self.error(rid, "no running process with open stdin for that id")
        ok = True
        if req.get("data"):
            ok = self.write_stdin(p.popen, base64.b64decode(req["data"]))
        if req.get("eof"):
            self.close_stdin(p.popen)
        self.reply(rid, ok=ok)

    def op_kill(self, rid, req):
        p = self.procs.get(req.get("target"))
        if p is None:
            return self.error(rid, "no running process for that id")
        self.kill_group(p, int(req.get("signal") or signal.SIGKILL))
        self.reply(rid, ok=True)

    def kill_group(self, p, sig):
        try:
            os.killpg(p.popen.pid, sig)
        except OSError:
            try:
                p.popen.send_signal(sig)
            except OSError:
                pass

    def read_pipe(self, fd):
        """Reads once from a child's pipe; returns False when nothing more is there now."""
        p, which = self.fd_owner[fd]
        try:
            data = os.read(fd, 1 << 16)
        except (BlockingIOError, InterruptedError):
            return False
        if not data:
            self.close_pipe(fd)
            self.maybe_finish(p)
            return False
        if p.stream:
            self.send({"id": p.rid, "type": "out", "fd": which, "data": B64(data).decode()})
        else:
            target = p.out if which == 1 else p.err
            room = p.max_output - len(target)
            if room < len(data):
                p.truncated = True
                data = data[:max(room, 0)]
            target += data
        return True

    def close_pipe(self, fd):
        p, _ = self.fd_owner.pop(fd)
        self.sel.unregister(fd)
        os.close(fd)
        p.open_fds -= 1

    def reap(self):
        for pid, p in list(self.by_pid.items()):
            if p.status is None:
                try:
                    wpid, status = os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    wpid, status = pid, 0
                if wpid == pid:
                    p.status = status
                    p.exited_at = time.monotonic()
                    p.popen.returncode = 0  # keep subprocess from waiting again
                    self.drain(p)
                    self.maybe_finish(p)

    def drain(self, p):
        for fd, (owner, _) in list(self.fd_owner.items()):
            if owner is p:
                while fd in self.fd_owner and self.read_pipe(fd):
                    pass

    def check_deadlines(self):
        now = time.monotonic()
        for p in list(self.procs.values()):
            if p.status is None and p.deadline is not None and now >= p.deadline:
                p.timed_out = True
                p.deadline = None
                self.kill_group(p, signal.SIGKILL)
            if p.status is not None and p.exited_at and now >= p.exited_at + 0.05:
                # The process is gone but something it started still holds its pipes.
                for fd, (owner, _) in list(self.fd_owner.items()):
                    if owner is p:
                        self.close_pipe(fd)
                self.maybe_finish(p)

    def maybe_finish(self, p):
        if p.status is None or p.open_fds > 0 or p.rid not in self.procs:
            return
        del self.procs[p.rid]
        self.by_pid.pop(p.popen.pid, None)
        if p.popen.stdin is not None:
            self.close_stdin(p.popen)
        status = p.status
        code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
        sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
        msg = {"id": p.rid, "type": "exit", "code": code, "signal": sig,
               "timed_out": p.timed_out, "truncated": p.truncated}
        if not p.stream:
            msg["stdout"] = B64(bytes(p.out)).decode()
            msg["stderr"] = B64(bytes(p.err)).decode()
        self.send(msg)

    # -- files ----------------------------------------------------------------
    def op_read(self, rid, req):
        path = req["path"]
        offset = int(req.get("offset") or 0)
        limit = int(req.get("limit") or DEFAULT_MAX_OUTPUT)
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if st.S_ISDIR(os.fstat(f.fileno()).st_mode):
                raise IsADirectoryError(errno.EISDIR, "is a directory", path)
            f.seek(offset)
            data = f.read(limit)
        self.reply(rid, data=B64(data).decode(), size=size,
                   eof=offset + len(data) >= size)

    def op_write(self, rid, req):
        path = req["path"]
        data = base64.b64decode(req.get("data") or "")
        if req.get("mkdirs", True):
            parent = os.path.dirname(path)
            if parent:
                os.makedirs(parent, exist_ok=True)
        flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if req.get("append") else os.O_TRUNC)
        fd = os.open(path, flags, int(req.get("mode") or 0o644))
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        self.reply(rid, size=os.stat(path).st_size)

    @staticmethod
    def describe(path, name, s):
        kind = ("dir" if st.S_ISDIR(s.st_mode) else "file" if st.S_ISREG(s.st_mode)
                else "symlink" if st.S_ISLNK(s.st_mode) else "other")
        return {"name": name, "path": path, "type": kind, "size": s.st_size,
                "mode": st.S_IMODE(s.st_mode), "mtime": s.st_mtime}

    def op_stat(self, rid, req):
        path = req["path"]
        self.reply(rid, entry=self.describe(path, os.path.basename(path) or path, os.lstat(path)))

    def op_list(self, rid, req):
        path = req["path"]
        entries = []
        with os.scandir(path) as it:
            for e in it:
                try:
                    entries.append(self.describe(e.path, e.name, e.stat(follow_symlinks=False)))
                except OSError:
                    pass
        entries.sort(key=lambda e: e["name"])
        self.reply(rid, entries=entries)

    def op_mkdir(self, rid, req):
        os.makedirs(req["path"], exist_ok=True)
        self.reply(rid, ok=True)

    def op_remove(self, rid, req):
        path = req["path"]
        if os.path.isdir(path) and not os.path.islink(path):
            import shutil
            shutil.rmtree(path)
        else:
            os.unlink(path)
        self.reply(rid, ok=True)


def main():
    os.environ.setdefault("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    os.environ.setdefault("HOME", "/root")
    os.environ.setdefault("LANG", "C.UTF-8")
    Agent(sys.argv[1] if len(sys.argv) > 1 else find_port()).run()


if __name__ == "__main__":
    main()
