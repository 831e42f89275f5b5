/* Vivarium guest agent: the port, its framing, and the reply helpers. */
#define _GNU_SOURCE
#include "agent_port.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent_json.h"

/* ---- the port -------------------------------------------------------------------------- */
int port_fd = -1;
buf_t out_msg;
int64_t port_paused_until;

int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void msleep(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

/* Writes out_msg + '\n' to the port. The port is a blocking fd, as in the reference agent:
 * a host that stops reading stalls the agent instead of making it buffer without bound. */
static void send_msg(void)
{
    buf_addc(&out_msg, '\n');
    size_t off = 0;
    while (off < out_msg.n) {
        ssize_t w = write(port_fd, out_msg.p + off, out_msg.n - off);
        if (w > 0) {
            off += (size_t)w;
        } else if (w < 0 && errno == EINTR) {
            continue;
        } else if (w < 0 && errno == EAGAIN) {
            msleep(1);
        } else {
            /* Host gone mid-message: the rest is dropped; the next hello resynchronises. */
            fprintf(stderr, "vivarium-agent: write to the port failed: %s\n", strerror(errno));
            break;
        }
    }
    out_msg.n = 0;
    if (out_msg.cap > (1u << 20)) /* don't keep a large exit message's buffer around */
        buf_free(&out_msg);
}

void msg_begin(const char *rid, const char *type)
{
    out_msg.n = 0;
    buf_adds(&out_msg, "{\"id\":");
    buf_adds(&out_msg, rid);
    buf_adds(&out_msg, ",\"type\":\"");
    buf_adds(&out_msg, type);
    buf_addc(&out_msg, '"');
}
void msg_key(const char *key)
{
    buf_adds(&out_msg, ",\"");
    buf_adds(&out_msg, key);
    buf_adds(&out_msg, "\":");
}
void msg_end(void)
{
    buf_addc(&out_msg, '}');
    send_msg();
}

void send_error(const char *rid, const char *message, int err)
{
    msg_begin(rid, "error");
    msg_key("message");
    jput_cstr(&out_msg, message);
    msg_key("errno");
    const char *name = err ? strerrorname_np(err) : NULL;
    jput_cstr(&out_msg, name ? name : "");
    msg_end();
}
void send_oserror(const char *rid, int err, const char *path)
{
    buf_t m = {0};
    buf_adds(&m, strerror(err));
    buf_adds(&m, ": ");
    buf_adds(&m, path ? path : "");
    buf_addc(&m, 0);
    send_error(rid, m.p, err);
    buf_free(&m);
}
void send_ok(const char *rid, int ok)
{
    msg_begin(rid, "result");
    msg_key("ok");
    buf_adds(&out_msg, ok ? "true" : "false");
    msg_end();
}

static buf_t inbuf;
static int discarding; /* a line over MAX_LINE is being skipped */

void read_port(void (*on_line)(char *line, size_t n))
{
    buf_reserve(&inbuf, 1 << 20);
    ssize_t n = read(port_fd, inbuf.p + inbuf.n, inbuf.cap - inbuf.n);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        /* The host side is not connected: virtio-serial reports EOF/HUP. Look again soon,
         * while still serving the children. */
        port_paused_until = now_ms() + 50;
        return;
    }
    size_t start = inbuf.n;
    inbuf.n += (size_t)n;
    size_t pos = 0;
    for (;;) {
        char *nl = memchr(inbuf.p + start, '\n', inbuf.n - start);
        if (!nl)
            break;
        size_t end = (size_t)(nl - inbuf.p);
        if (discarding) {
            discarding = 0;
            send_error("-1", "request line too long", 0);
        } else {
            *nl = 0;
            on_line(inbuf.p + pos, end - pos);
        }
        pos = end + 1;
        start = pos;
    }
    if (pos) {
        memmove(inbuf.p, inbuf.p + pos, inbuf.n - pos);
        inbuf.n -= pos;
    }
    if (inbuf.n > MAX_LINE) {
        discarding = 1;
        inbuf.n = 0;
    }
    if (discarding)
        inbuf.n = 0;
    if (inbuf.n == 0 && inbuf.cap > (4u << 20)) /* give a large request's memory back */
        buf_free(&inbuf);
}

char *find_port(void)
{
    static char dev[PATH_MAX];
    for (int tries = 0; tries < 2500; ++tries) {
        DIR *d = opendir("/sys/class/virtio-ports");
        if (d) {
            struct dirent *e;
            while ((e = readdir(d))) {
                if (e->d_name[0] == '.')
                    continue;
                char p[PATH_MAX], name[64] = {0};
                snprintf(p, sizeof p, "/sys/class/virtio-ports/%s/name", e->d_name);
                int fd = open(p, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                    continue;
                ssize_t n = read(fd, name, sizeof name - 1);
                close(fd);
                while (n > 0 && (name[n - 1] == '\n' || name[n - 1] == ' '))
                    name[--n] = 0;
                if (n > 0 && strcmp(name, PORT_NAME) == 0) {
                    snprintf(dev, sizeof dev, "/dev/%s", e->d_name);
                    closedir(d);
                    return dev;
                }
            }
            closedir(d);
        }
        msleep(2);
    }
    fprintf(stderr, "vivarium-agent: no virtio port named %s\n", PORT_NAME);
    exit(1);
}
