/* Vivarium guest PID 1 (after the initramfs has mounted everything and switched root).
 * Starts the guest agent, restarts it if it ever dies, and reaps every orphan so that
 * processes the agent runs never linger as zombies. Built statically by build-image.sh. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: vivarium-init PROGRAM [ARGS...]\n");
        return 2;
    }
    setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 1);
    setenv("HOME", "/root", 1);
    setenv("LANG", "C.UTF-8", 1);
    setenv("TERM", "dumb", 1);
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    for (;;) {
        pid_t agent = fork();
        if (agent == 0) {
            signal(SIGINT, SIG_DFL);
            signal(SIGTERM, SIG_DFL);
            execv(argv[1], argv + 1);
            perror("vivarium-init: exec");
            _exit(127);
        }
        for (;;) {
            int status;
            pid_t pid = wait(&status);
            if (pid == agent) {
                fprintf(stderr, "vivarium-init: agent exited (status %d), restarting\n", status);
                struct timespec ts = {0, 200 * 1000 * 1000};
                nanosleep(&ts, NULL);
                break;
            }
            if (pid < 0) {
                struct timespec ts = {0, 100 * 1000 * 1000};
                nanosleep(&ts, NULL);
            }
        }
    }
}
