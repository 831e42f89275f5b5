/* Vivarium guest agent: the table of running children (exec), their stdin queues and output
 * pipes, reaping, deadlines and the final `exit` message. */
#ifndef VIVARIUM_AGENT_PROC_H
#define VIVARIUM_AGENT_PROC_H

#include <stdint.h>
#include <sys/types.h>

#include "agent_buf.h"

typedef struct wreq {
    char *data;
    size_t len, off;
    char *reply_rid; /* a `stdin` request answered when this chunk is in the pipe; or NULL */
    struct wreq *next;
} wreq;

enum { IN_NONE, IN_OPEN, IN_CLOSING, IN_BROKEN, IN_CLOSED };

typedef struct proc {
    char *rid;
    pid_t pid;
    int stream;
    int fds[3]; /* [0] stdin write end, [1] stdout, [2] stderr; -1 when closed */
    int in_state;
    wreq *wq, *wq_tail;
    buf_t out[3];
    int64_t deadline; /* 0: none */
    int timed_out, truncated;
    long long max_output;
    int exited, status;
    int64_t exited_at;
    int finished; /* freed at the end of the loop iteration */
    int displaced; /* a later exec took its id: still reports under it, never found by it */
    struct proc *next;
} proc;

extern proc *procs;

proc *find_proc(const char *rid);
void flush_stdin(proc *p);
void queue_stdin(proc *p, char *data, size_t len, const char *reply_rid);
int read_pipe(proc *p, int which);
void kill_group(proc *p, int sig);
void reap(void);
void check_deadlines(void);
void free_finished(void);

#endif
