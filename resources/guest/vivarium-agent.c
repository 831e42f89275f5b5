/* Vivarium guest agent (compiled; replaces the earlier agent.py, same protocol).
 *
 * Speaks newline-delimited JSON over the virtio-serial port named `vivarium.agent` (or the
 * path given as argv[1]). One request per line: {"id": N, "op": "...", ...}; every reply
 * carries the request's id. Binary payloads are base64. Single-threaded: one poll() loop
 * multiplexes the port, the children's pipes (stdout/stderr to read, stdin to write) and a
 * signalfd for SIGCHLD, so many execs run at once and nothing blocks on a slow child.
 *
 * Ops (fields as in the host's GuestChannel/SandboxManager):
 *   hello                      -> {"type":"ready","version":1}
 *   exec   argv env clear_env cwd stdin(b64) keep_stdin stream timeout_ms max_output
 *          -> keep_stdin: {"type":"started","pid"} first; stream: {"type":"out","fd":1|2,"data"}
 *             while it runs; always {"type":"exit","code","signal","timed_out","truncated"
 *             [,"stdout","stderr" when not streaming]} last. The child gets its own session
 *             (process group); a timeout or `kill` signals the whole group.
 *   stdin  target data(b64) eof -> {"ok":bool} once the data is in the pipe (false: broken)
 *   kill   target signal        -> {"ok":true}
 *   read   path offset limit    -> {"data","size","eof"}
 *   write  path data mkdirs append mode -> {"size"}
 *   list   path -> {"entries":[...]}   stat path -> {"entry":{...}}
 *   mkdir  path -> {"ok":true}         remove path -> {"ok":true}
 *   reseed data(b64)            -> {"ok":true}: mixes the host's random bytes into the kernel's
 *          pool (credited) and reseeds its CRNG. A VM restored from a shared snapshot would
 *          otherwise produce the same random numbers as its siblings.
 * Errors: {"type":"error","message","errno":"ENOENT"|...|""}.
 *
 * It runs as root in the guest, so input is handled defensively: request lines are bounded,
 * the JSON parser bounds nesting, rejects malformed text and never trusts lengths, and a bad
 * request only ever gets an error reply. No dependencies beyond libc; built statically.
 *
 * Sources (one static binary; build-image.sh compiles vivarium-agent.c and every agent_*.c):
 *   agent_buf      memory, growable buffers, base64     agent_json     JSON parse and emit
 *   agent_port     the port, line framing, replies      agent_proc     the process table
 *   agent_request  reading request fields               agent_exec     exec, stdin, kill
 *   agent_files    read, write, list, stat, mkdir, remove, reseed
 *   vivarium-agent.c (this file): dispatch and the poll loop. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "agent_json.h"
#include "agent_ops.h"
#include "agent_port.h"
#include "agent_proc.h"

#define VERSION 1

/* ---- dispatch -------------------------------------------------------------------------- */
static void handle_line(char *line, size_t n)
{
    size_t k = 0;
    while (k < n && (line[k] == ' ' || line[k] == '\t' || line[k] == '\r'))
        ++k;
    if (k == n)
        return;
    jparser ps = {0};
    jnode *req = jparse(&ps, line, n);
    if (!req || req->type != J_OBJ) {
        send_error("-1", "malformed request line", 0);
        jfree(&ps);
        return;
    }
    buf_t rid = {0};
    jnode *idv = jget(req, "id");
    if (idv)
        jput_value(&rid, idv);
    else
        buf_adds(&rid, "-1");
    buf_addc(&rid, 0);
    jnode *opv = jget(req, "op");
    const char *op = opv && opv->type == J_STR ? opv->str : "";
    static const struct { const char *name; void (*fn)(const char *, jnode *); } ops[] = {
        {"exec", op_exec}, {"stdin", op_stdin}, {"kill", op_kill}, {"read", op_read},
        {"write", op_write}, {"list", op_list}, {"stat", op_stat}, {"mkdir", op_mkdir},
        {"remove", op_remove}, {"reseed", op_reseed}};
    int done = 0;
    if (opv && opv->type == J_STR && strcmp(op, "hello") == 0 && strlen(op) == opv->len) {
        msg_begin(rid.p, "ready");
        msg_key("version");
        buf_printf(&out_msg, "%d", VERSION);
        msg_end();
        done = 1;
    }
    for (size_t i = 0; !done && opv && opv->type == J_STR && i < sizeof ops / sizeof *ops; ++i) {
        if (strcmp(op, ops[i].name) == 0 && strlen(op) == opv->len) {
            ops[i].fn(rid.p, req);
            done = 1;
        }
    }
    if (!done) {
        buf_t m = {0};
        buf_adds(&m, "unknown op ");
        if (opv)
            jput_value(&m, opv);
        else
            buf_adds(&m, "None");
        buf_addc(&m, 0);
        send_error(rid.p, m.p, 0);
        buf_free(&m);
    }
    buf_free(&rid);
    jfree(&ps);
}

int main(int argc, char **argv)
{
    /* fds 0-2 must be taken, so that no pipe lands there and gets clobbered by a dup2. */
    for (;;) {
        int fd = open("/dev/null", O_RDWR);
        if (fd < 0 || fd > 2) {
            if (fd > 2)
                close(fd);
            break;
        }
    }
    setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 0);
    setenv("HOME", "/root", 0);
    setenv("LANG", "C.UTF-8", 0);
    signal(SIGPIPE, SIG_IGN); /* children get it back (POSIX_SPAWN_SETSIGDEF) */

    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    int sfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
    if (sfd < 0) {
        perror("vivarium-agent: signalfd");
        return 1;
    }

    const char *path = argc > 1 ? argv[1] : find_port();
    port_fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (port_fd < 0) {
        fprintf(stderr, "vivarium-agent: cannot open %s: %s\n", path, strerror(errno));
        return 1;
    }

    msg_begin("0", "ready");
    msg_key("version");
    buf_printf(&out_msg, "%d", VERSION);
    msg_end();

    struct pollfd *pfds = NULL;
    struct { proc *p; int which; } *tags = NULL;
    size_t pcap = 0;
    for (;;) {
        size_t nproc = 0;
        for (proc *p = procs; p; p = p->next)
            ++nproc;
        if (pcap < 2 + 3 * nproc) {
            pcap = 2 + 3 * nproc + 16;
            pfds = xrealloc(pfds, pcap * sizeof *pfds);
            tags = xrealloc(tags, pcap * sizeof *tags);
        }
        size_t n = 0;
        int64_t now = now_ms();
        int64_t wake = -1;
        if (port_paused_until && now >= port_paused_until)
            port_paused_until = 0;
        if (!port_paused_until) {
            pfds[n] = (struct pollfd){port_fd, POLLIN, 0};
            tags[n].p = NULL;
            tags[n++].which = -1;
        } else {
            wake = port_paused_until;
        }
        pfds[n] = (struct pollfd){sfd, POLLIN, 0};
        tags[n].p = NULL;
        tags[n++].which = -2;
        for (proc *p = procs; p; p = p->next) {
            for (int which = 0; which < 3; ++which) {
                if (p->fds[which] < 0 || (which == 0 && !p->wq))
                    continue;
                pfds[n] = (struct pollfd){p->fds[which], which == 0 ? POLLOUT : POLLIN, 0};
                tags[n].p = p;
                tags[n++].which = which;
            }
            int64_t t = 0;
            if (!p->exited && p->deadline)
                t = p->deadline;
            else if (p->exited)
                t = p->exited_at + 50;
            if (t && (wake < 0 || t < wake))
                wake = t;
        }
        int timeout = -1;
        if (wake >= 0)
            timeout = wake > now ? (int)(wake - now > INT_MAX ? INT_MAX : wake - now) : 0;
        int r = poll(pfds, n, timeout);
        if (r < 0 && errno != EINTR) {
            perror("vivarium-agent: poll");
            msleep(10);
        }
        for (size_t i = 0; r > 0 && i < n; ++i) {
            if (!pfds[i].revents)
                continue;
            proc *p = tags[i].p;
            int which = tags[i].which;
            if (which == -1) {
                read_port(handle_line);
            } else if (which == -2) {
                struct signalfd_siginfo si;
                while (read(sfd, &si, sizeof si) > 0) {
                }
            } else if (!p->finished && p->fds[which] == pfds[i].fd) {
                if (which == 0)
                    flush_stdin(p);
                else
                    read_pipe(p, which);
            }
        }
        reap();
        check_deadlines();
        free_finished();
    }
}
