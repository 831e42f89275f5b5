/* Vivarium guest agent: the process ops (exec, stdin, kill). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent_ops.h"
#include "agent_port.h"
#include "agent_proc.h"
#include "agent_request.h"

extern char **environ;

/* ---- ops: processes -------------------------------------------------------------------- */
/* Python's subprocess looks a bare program name up in the child's PATH (os.get_exec_path). */
static int resolve_program(const char *prog, char *const *envp, char *out, size_t outsz)
{
    if (strchr(prog, '/')) {
        if (strlen(prog) >= outsz)
            return ENAMETOOLONG;
        strcpy(out, prog);
        return 0;
    }
    const char *path = NULL;
    for (char *const *e = envp; e && *e; ++e)
        if (strncmp(*e, "PATH=", 5) == 0)
            path = *e + 5;
    if (!path)
        path = "/bin:/usr/bin";
    int err = ENOENT;
    while (*path) {
        const char *end = strchrnul(path, ':');
        size_t dl = (size_t)(end - path);
        if (dl + 1 + strlen(prog) < outsz) {
            if (dl == 0)
                snprintf(out, outsz, "%s", prog);
            else
                snprintf(out, outsz, "%.*s/%s", (int)dl, path, prog);
            struct stat st;
            if (stat(out, &st) == 0 && S_ISREG(st.st_mode)) {
                if (access(out, X_OK) == 0)
                    return 0;
                err = EACCES;
            }
        }
        path = *end ? end + 1 : end;
    }
    return err;
}

void op_exec(const char *rid, jnode *req)
{
    jnode *av = jget(req, "argv");
    if (!jtruthy(av)) {
        send_error(rid, "argv is empty", 0);
        return;
    }
    if (av->type != J_ARR) {
        send_error(rid, "argv must be a list of strings", 0);
        return;
    }
    size_t argc = 0;
    for (jnode *c = av->child; c; c = c->next) {
        if (c->type != J_STR || strlen(c->str) != c->len) {
            send_error(rid, "argv must be a list of strings without NUL bytes", 0);
            return;
        }
        ++argc;
    }
    /* Environment: inherited, or cleared, plus `env` (later keys win, as dict.update). */
    jnode *envj = jget(req, "env");
    int clear_env = jtruthy(jget(req, "clear_env"));
    int custom_env = (envj && envj->type != J_NULL) || clear_env;
    if (envj && envj->type != J_NULL && envj->type != J_OBJ) {
        send_error(rid, "env must be an object", 0);
        return;
    }
    const char *cwd = NULL;
    jnode *cwdj = jget(req, "cwd");
    if (jtruthy(cwdj) && !(cwd = want_cstr(rid, req, "cwd", 0)))
        return;
    if (!cwd)
        cwd = "/workspace";
    int keep_stdin = jtruthy(jget(req, "keep_stdin"));
    int stream = jtruthy(jget(req, "stream"));
    long long stdin_len;
    char *stdin_data = want_b64(rid, req, "stdin", &stdin_len);
    if (stdin_len < 0)
        return;
    double timeout_ms, max_output;
    if (want_num(rid, req, "timeout_ms", 0, &timeout_ms) < 0 ||
        want_num(rid, req, "max_output", (double)DEFAULT_MAX_OUTPUT, &max_output) < 0)
        return;

    char **argv = xrealloc(NULL, (argc + 1) * sizeof *argv);
    size_t i = 0;
    for (jnode *c = av->child; c; c = c->next)
        argv[i++] = c->str;
    argv[argc] = NULL;

    char **envp = environ;
    buf_t envstore = {0};
    char **envv = NULL;
    if (custom_env) {
        size_t base = 0, extra = 0;
        if (!clear_env)
            for (char **e = environ; *e; ++e)
                ++base;
        if (envj && envj->type == J_OBJ)
            for (jnode *c = envj->child; c; c = c->next)
                ++extra;
        envv = xrealloc(NULL, (base + extra + 1) * sizeof *envv);
        /* NULL-terminated at every step: a bad entry below jumps to `out`, which frees up to
         * the first NULL (it used to walk into uninitialised slots and free garbage). */
        memset(envv, 0, (base + extra + 1) * sizeof *envv);
        size_t n = 0;
        if (!clear_env)
            for (char **e = environ; *e; ++e)
                envv[n++] = xstrndup(*e, strlen(*e));
        for (jnode *c = envj && envj->type == J_OBJ ? envj->child : NULL; c; c = c->next) {
            if (strlen(c->key) != c->klen || memchr(c->key, '=', c->klen) || c->klen == 0) {
                send_error(rid, "ValueError: illegal environment variable name", 0);
                goto out;
            }
            envstore.n = 0;
            buf_add(&envstore, c->key, c->klen);
            buf_addc(&envstore, '=');
            if (c->type == J_STR) {
                if (strlen(c->str) != c->len) {
                    send_error(rid, "ValueError: embedded null byte", 0);
                    goto out;
                }
                buf_add(&envstore, c->str, c->len);
            } else if (c->type == J_NUM) {
                jput_value(&envstore, c);
            } else if (c->type == J_TRUE || c->type == J_FALSE || c->type == J_NULL) {
                buf_adds(&envstore, c->type == J_TRUE ? "True" : c->type == J_FALSE ? "False" : "None");
            } else {
                send_error(rid, "env values must be strings", 0);
                goto out;
            }
            size_t j = 0;
            for (; j < n; ++j)
                if (strncmp(envv[j], c->key, c->klen) == 0 && envv[j][c->klen] == '=')
                    break;
            char *entry = xstrndup(envstore.p, envstore.n);
            if (j < n) {
                free(envv[j]);
                envv[j] = entry;
            } else {
                envv[n++] = entry;
            }
        }
        envv[n] = NULL;
        envp = envv;
    }

    {
        char prog[PATH_MAX];
        int err = resolve_program(argv[0], envp, prog, sizeof prog);
        int pin[2] = {-1, -1}, pout[2] = {-1, -1}, perr[2] = {-1, -1};
        int want_in = keep_stdin || stdin_len > 0;
        pid_t pid = -1;
        if (!err && ((want_in && pipe2(pin, O_CLOEXEC) < 0) || pipe2(pout, O_CLOEXEC) < 0 ||
                     pipe2(perr, O_CLOEXEC) < 0))
            err = errno;
        if (!err) {
            posix_spawn_file_actions_t fa;
            posix_spawnattr_t at;
            posix_spawn_file_actions_init(&fa);
            posix_spawnattr_init(&at);
            if (want_in)
                posix_spawn_file_actions_adddup2(&fa, pin[0], 0);
            else
                posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
            posix_spawn_file_actions_adddup2(&fa, pout[1], 1);
            posix_spawn_file_actions_adddup2(&fa, perr[1], 2);
            posix_spawn_file_actions_addchdir_np(&fa, cwd);
            sigset_t none, def;
            sigemptyset(&none);
            sigemptyset(&def);
            sigaddset(&def, SIGPIPE);
            sigaddset(&def, SIGCHLD);
            posix_spawnattr_setsigmask(&at, &none);
            posix_spawnattr_setsigdefault(&at, &def);
            posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
            err = posix_spawn(&pid, prog, &fa, &at, argv, envp);
            posix_spawn_file_actions_destroy(&fa);
            posix_spawnattr_destroy(&at);
        }
        if (pin[0] >= 0) close(pin[0]);
        if (pout[1] >= 0) close(pout[1]);
        if (perr[1] >= 0) close(perr[1]);
        if (err) {
            if (pin[1] >= 0) close(pin[1]);
            if (pout[0] >= 0) close(pout[0]);
            if (perr[0] >= 0) close(perr[0]);
            char m[512];
            snprintf(m, sizeof m, "cannot start %.300s: %s", argv[0], strerror(err));
            send_error(rid, m, err);
            goto out;
        }
        proc *p = xrealloc(NULL, sizeof *p);
        memset(p, 0, sizeof *p);
        p->rid = xstrndup(rid, strlen(rid));
        p->pid = pid;
        p->stream = stream;
        p->fds[0] = pin[1];
        p->fds[1] = pout[0];
        p->fds[2] = perr[0];
        for (int k = 0; k < 3; ++k)
            if (p->fds[k] >= 0)
                fcntl(p->fds[k], F_SETFL, fcntl(p->fds[k], F_GETFL) | O_NONBLOCK);
        p->in_state = want_in ? IN_OPEN : IN_NONE;
        if (timeout_ms > 1e12)
            timeout_ms = 1e12; /* ~30 years */
        p->deadline = timeout_ms > 0 ? now_ms() + (int64_t)timeout_ms + (timeout_ms > (double)(int64_t)timeout_ms) : 0;
        p->max_output = clamp_ll(max_output);
        /* A request reusing the id of a running one takes the id over (as a dict would): later
         * stdin/kill requests reach the new process; the old one still reports its own output
         * and exit under that id, so every message stays valid JSON. */
        for (proc *o = procs; o; o = o->next)
            if (!o->finished && strcmp(o->rid, rid) == 0)
                o->displaced = 1;
        p->next = procs;
        procs = p;
        if (stdin_len > 0)
            queue_stdin(p, xstrndup(stdin_data, (size_t)stdin_len), (size_t)stdin_len, NULL);
        if (!keep_stdin && want_in)
            p->in_state = IN_CLOSING;
        flush_stdin(p);
        if (keep_stdin) {
            msg_begin(rid, "started");
            msg_key("pid");
            buf_printf(&out_msg, "%d", (int)pid);
            msg_end();
        }
    }
out:
    if (envv) {
        for (char **e = envv; *e; ++e)
            free(*e);
        free(envv);
    }
    buf_free(&envstore);
    free(argv);
}

static proc *target_proc(const jnode *req)
{
    const jnode *t = jget(req, "target");
    if (!t)
        return NULL;
    buf_t b = {0};
    jput_value(&b, t);
    buf_addc(&b, 0);
    proc *p = find_proc(b.p);
    buf_free(&b);
    return p;
}

void op_stdin(const char *rid, jnode *req)
{
    proc *p = target_proc(req);
    if (!p || (p->in_state != IN_OPEN && p->in_state != IN_BROKEN)) {
        send_error(rid, "no running process with open stdin for that id", 0);
        return;
    }
    long long len;
    char *data = want_b64(rid, req, "data", &len);
    if (len < 0)
        return;
    int eof = jtruthy(jget(req, "eof"));
    if (p->in_state == IN_BROKEN) {
        if (eof)
            p->in_state = IN_CLOSED;
        send_ok(rid, len == 0);
        return;
    }
    if (eof)
        p->in_state = IN_CLOSING;
    /* Answered once this chunk (and everything before it) is in the pipe. */
    queue_stdin(p, len > 0 ? xstrndup(data, (size_t)len) : NULL, (size_t)len, rid);
    flush_stdin(p);
}

void op_kill(const char *rid, jnode *req)
{
    proc *p = target_proc(req);
    if (!p) {
        send_error(rid, "no running process for that id", 0);
        return;
    }
    double sig;
    if (want_num(rid, req, "signal", SIGKILL, &sig) < 0)
        return;
    if (sig < 1 || sig > 64) {
        send_error(rid, "ValueError: signal number out of range", 0);
        return;
    }
    kill_group(p, (int)sig);
    send_ok(rid, 1);
}
