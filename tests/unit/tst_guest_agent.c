/* Host-side test of the guest agent as a process (the host build of resources/guest, not the
 * VM image's static one): it is started on a pseudo-terminal in raw mode standing in for the
 * virtio port, and answers newline-delimited JSON requests there.
 *
 * Regression: an exec whose `env` had a refused entry (illegal name, embedded NUL, non-string
 * value) freed uninitialised slots of the environment array and crashed the agent once the
 * heap was not fresh. MALLOC_PERTURB_ fills new allocations with garbage, which made the old
 * agent die with SIGSEGV on the first such request; here it must answer and stay up. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#ifndef VIVARIUM_GUEST_AGENT_PATH
#error "VIVARIUM_GUEST_AGENT_PATH must name the host build of the guest agent"
#endif

static int failures;
static int master = -1;
static pid_t agent = -1;
static char inbuf[1 << 16];
static size_t inlen;

#define CHECK(cond)                                                                            \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);           \
            ++failures;                                                                        \
        }                                                                                      \
    } while (0)

static void send_line(const char *s)
{
    size_t n = strlen(s), off = 0;
    while (off < n) {
        ssize_t w = write(master, s + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            perror("write");
            exit(2);
        }
        off += (size_t)w;
    }
    if (write(master, "\n", 1) != 1) {
        perror("write");
        exit(2);
    }
}

/* The next reply line (without its newline), or "" after 10 s without one. */
static const char *next_line(void)
{
    static char line[sizeof inbuf];
    for (;;) {
        char *nl = memchr(inbuf, '\n', inlen);
        if (nl) {
            size_t n = (size_t)(nl - inbuf);
            memcpy(line, inbuf, n);
            line[n] = 0;
            memmove(inbuf, nl + 1, inlen - n - 1);
            inlen -= n + 1;
            return line;
        }
        struct pollfd p = {master, POLLIN, 0};
        int r = poll(&p, 1, 10000);
        if (r <= 0 || inlen == sizeof inbuf)
            return "";
        ssize_t got = read(master, inbuf + inlen, sizeof inbuf - inlen);
        if (got <= 0)
            return "";
        inlen += (size_t)got;
    }
}

static int expect(const char *request, const char *reply)
{
    if (request)
        send_line(request);
    const char *got = next_line();
    if (strcmp(got, reply) != 0) {
        fprintf(stderr, "  request %s\n  got     %s\n  wanted  %s\n", request ? request : "(none)", got, reply);
        return 0;
    }
    return 1;
}

int main(void)
{
    master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0) {
        perror("posix_openpt");
        return 2;
    }
    const char *slave = ptsname(master);
    /* Raw mode on the agent's side: no echo, no line editing, bytes as they are. */
    int sfd = open(slave, O_RDWR | O_NOCTTY);
    struct termios t;
    if (sfd < 0 || tcgetattr(sfd, &t) < 0) {
        perror("slave");
        return 2;
    }
    cfmakeraw(&t);
    tcsetattr(sfd, TCSANOW, &t);

    agent = fork();
    if (agent == 0) {
        setenv("MALLOC_PERTURB_", "165", 1);
        execl(VIVARIUM_GUEST_AGENT_PATH, "vivarium-agent", slave, (char *)NULL);
        _exit(127);
    }
    close(sfd); /* the agent opens the slave itself */

    CHECK(expect(NULL, "{\"id\":0,\"type\":\"ready\",\"version\":1}"));
    CHECK(expect("{\"id\":1,\"op\":\"exec\",\"argv\":[\"true\"],\"cwd\":\"/\",\"env\":{\"OK\":\"1\",\"A=B\":\"x\"}}",
                 "{\"id\":1,\"type\":\"error\",\"message\":\"ValueError: illegal environment variable name\",\"errno\":\"\"}"));
    CHECK(expect("{\"id\":2,\"op\":\"exec\",\"argv\":[\"true\"],\"cwd\":\"/\",\"env\":{\"A\":\"x\\u0000y\"}}",
                 "{\"id\":2,\"type\":\"error\",\"message\":\"ValueError: embedded null byte\",\"errno\":\"\"}"));
    CHECK(expect("{\"id\":3,\"op\":\"exec\",\"argv\":[\"true\"],\"cwd\":\"/\",\"clear_env\":true,\"env\":{\"A\":[1]}}",
                 "{\"id\":3,\"type\":\"error\",\"message\":\"env values must be strings\",\"errno\":\"\"}"));
    CHECK(expect("{\"id\":4,\"op\":\"exec\",\"argv\":[\"true\"],\"cwd\":\"/\",\"env\":{\"\":\"x\"}}",
                 "{\"id\":4,\"type\":\"error\",\"message\":\"ValueError: illegal environment variable name\",\"errno\":\"\"}"));
    /* Still up, and env still works: later keys win, numbers and literals as Python wrote them. */
    CHECK(expect("{\"id\":5,\"op\":\"hello\"}", "{\"id\":5,\"type\":\"ready\",\"version\":1}"));
    CHECK(expect("{\"id\":6,\"op\":\"exec\",\"argv\":[\"sh\",\"-c\",\"printf %s \\\"$A$B$C\\\"\"],\"cwd\":\"/\","
                 "\"clear_env\":true,\"env\":{\"PATH\":\"/usr/bin:/bin\",\"A\":\"x\",\"A\":\"y\",\"B\":2,\"C\":true}}",
                 /* base64 of "y2True" */
                 "{\"id\":6,\"type\":\"exit\",\"code\":0,\"signal\":null,\"timed_out\":false,\"truncated\":false,"
                 "\"stdout\":\"eTJUcnVl\",\"stderr\":\"\"}"));

    /* An exec reusing the id of a running one takes the id over; the displaced process still
     * reports its exit under that id (it wrote `{"id":,` before, which is not JSON). */
    send_line("{\"id\":7,\"op\":\"exec\",\"argv\":[\"sh\",\"-c\",\"sleep 0.5; printf a\"],\"cwd\":\"/\"}");
    CHECK(expect("{\"id\":7,\"op\":\"exec\",\"argv\":[\"printf\",\"b\"],\"cwd\":\"/\"}",
                 "{\"id\":7,\"type\":\"exit\",\"code\":0,\"signal\":null,\"timed_out\":false,\"truncated\":false,"
                 "\"stdout\":\"Yg==\",\"stderr\":\"\"}"));
    CHECK(expect(NULL, "{\"id\":7,\"type\":\"exit\",\"code\":0,\"signal\":null,\"timed_out\":false,\"truncated\":false,"
                       "\"stdout\":\"YQ==\",\"stderr\":\"\"}"));

    int status = 0;
    CHECK(waitpid(agent, &status, WNOHANG) == 0); /* the agent has not died */
    kill(agent, SIGKILL);
    waitpid(agent, &status, 0);
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("guest agent process checks passed\n");
    return 0;
}
