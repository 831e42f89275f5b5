/* Vivarium guest agent: the process table (children of `exec`). */
#define _GNU_SOURCE
#include "agent_proc.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent_port.h"

#define PIPE_CHUNK 65536

/* ---- processes ------------------------------------------------------------------------- */

proc *procs;

proc *find_proc(const char *rid)
{
    for (proc *p = procs; p; p = p->next)
        if (!p->finished && !p->displaced && strcmp(p->rid, rid) == 0)
            return p;
    return NULL;
}

static void close_fd(proc *p, int which)
{
    if (p->fds[which] >= 0) {
        close(p->fds[which]);
        p->fds[which] = -1;
    }
}

/* Answers and drops every queued stdin chunk (ok=false: it never reached the child). */
static void drop_stdin_queue(proc *p)
{
    while (p->wq) {
        wreq *w = p->wq;
        p->wq = w->next;
        if (w->reply_rid)
            send_ok(w->reply_rid, 0);
        free(w->reply_rid);
        free(w->data);
        free(w);
    }
    p->wq_tail = NULL;
}

/* Writes what the child's stdin pipe takes now; answers `stdin` requests whose data is in. */
void flush_stdin(proc *p)
{
    while (p->wq && p->fds[0] >= 0) {
        wreq *w = p->wq;
        while (w->off < w->len) {
            ssize_t n = write(p->fds[0], w->data + w->off, w->len - w->off);
            if (n > 0) {
                w->off += (size_t)n;
                continue;
            }
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0 && errno == EAGAIN)
                return; /* poll says when there is room */
            /* EPIPE: nobody reads it any more. Further stdin requests answer ok=false. */
            close_fd(p, 0);
            drop_stdin_queue(p);
            if (p->in_state != IN_CLOSING)
                p->in_state = IN_BROKEN;
            else
                p->in_state = IN_CLOSED;
            return;
        }
        p->wq = w->next;
        if (!p->wq)
            p->wq_tail = NULL;
        if (!p->wq && p->in_state == IN_CLOSING) {
            close_fd(p, 0);
            p->in_state = IN_CLOSED;
        }
        if (w->reply_rid)
            send_ok(w->reply_rid, 1);
        free(w->reply_rid);
        free(w->data);
        free(w);
    }
    if (!p->wq && p->in_state == IN_CLOSING) {
        close_fd(p, 0);
        p->in_state = IN_CLOSED;
    }
}

void queue_stdin(proc *p, char *data, size_t len, const char *reply_rid)
{
    wreq *w = xrealloc(NULL, sizeof *w);
    w->data = data;
    w->len = len;
    w->off = 0;
    w->reply_rid = reply_rid ? xstrndup(reply_rid, strlen(reply_rid)) : NULL;
    w->next = NULL;
    if (p->wq_tail)
        p->wq_tail->next = w;
    else
        p->wq = w;
    p->wq_tail = w;
}

static void maybe_finish(proc *p)
{
    if (!p->exited || p->finished || p->fds[1] >= 0 || p->fds[2] >= 0)
        return;
    p->finished = 1;
    close_fd(p, 0);
    drop_stdin_queue(p);
    p->in_state = IN_CLOSED;
    msg_begin(p->rid, "exit");
    msg_key("code");
    if (WIFEXITED(p->status))
        buf_printf(&out_msg, "%d", WEXITSTATUS(p->status));
    else
        buf_adds(&out_msg, "null");
    msg_key("signal");
    if (WIFSIGNALED(p->status))
        buf_printf(&out_msg, "%d", WTERMSIG(p->status));
    else
        buf_adds(&out_msg, "null");
    msg_key("timed_out");
    buf_adds(&out_msg, p->timed_out ? "true" : "false");
    msg_key("truncated");
    buf_adds(&out_msg, p->truncated ? "true" : "false");
    if (!p->stream) {
        for (int which = 1; which <= 2; ++which) {
            msg_key(which == 1 ? "stdout" : "stderr");
            buf_addc(&out_msg, '"');
            b64_encode(&out_msg, (const unsigned char *)p->out[which].p, p->out[which].n);
            buf_addc(&out_msg, '"');
            buf_free(&p->out[which]);
        }
    }
    msg_end();
}

/* Reads once from a child's pipe; returns 0 when nothing more is there now. */
int read_pipe(proc *p, int which)
{
    static char chunk[PIPE_CHUNK];
    if (p->fds[which] < 0)
        return 0;
    ssize_t n = read(p->fds[which], chunk, sizeof chunk);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    if (n <= 0) {
        close_fd(p, which);
        maybe_finish(p);
        return 0;
    }
    if (p->stream) {
        msg_begin(p->rid, "out");
        msg_key("fd");
        buf_printf(&out_msg, "%d", which);
        msg_key("data");
        buf_addc(&out_msg, '"');
        b64_encode(&out_msg, (const unsigned char *)chunk, (size_t)n);
        buf_addc(&out_msg, '"');
        msg_end();
    } else {
        buf_t *t = &p->out[which];
        long long room = p->max_output - (long long)t->n;
        size_t take = (size_t)n;
        if (room < (long long)n) {
            p->truncated = 1;
            take = room > 0 ? (size_t)room : 0;
        }
        buf_add(t, chunk, take);
    }
    return 1;
}

void kill_group(proc *p, int sig)
{
    if (kill(-p->pid, sig) < 0)
        kill(p->pid, sig);
}

void reap(void)
{
    for (;;) {
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid <= 0)
            return;
        for (proc *p = procs; p; p = p->next) {
            if (p->pid == pid && !p->exited) {
                p->exited = 1;
                p->status = status;
                p->exited_at = now_ms();
                /* Bounded: a background process that keeps writing is cut off by the 50 ms
                 * rule in check_deadlines instead of holding the loop here. */
                for (int which = 1; which <= 2; ++which)
                    for (int k = 0; k < 256 && read_pipe(p, which); ++k) {
                    }
                maybe_finish(p);
                break;
            }
        }
    }
}

void check_deadlines(void)
{
    int64_t now = now_ms();
    for (proc *p = procs; p; p = p->next) {
        if (p->finished)
            continue;
        if (!p->exited && p->deadline && now >= p->deadline) {
            p->timed_out = 1;
            p->deadline = 0;
            kill_group(p, SIGKILL);
        }
        if (p->exited && now >= p->exited_at + 50) {
            /* The process is gone but something it started still holds its pipes. */
            close_fd(p, 1);
            close_fd(p, 2);
            maybe_finish(p);
        }
    }
}

void free_finished(void)
{
    proc **pp = &procs;
    while (*pp) {
        proc *p = *pp;
        if (!p->finished) {
            pp = &p->next;
            continue;
        }
        *pp = p->next;
        for (int i = 0; i < 3; ++i) {
            if (p->fds[i] >= 0)
                close(p->fds[i]);
            buf_free(&p->out[i]);
        }
        drop_stdin_queue(p);
        free(p->rid);
        free(p);
    }
}
