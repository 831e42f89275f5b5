// Linked into every executable of a ThreadSanitizer build (the tsan preset; CMakeLists.txt adds
// it through vivarium_options), nowhere else.
//
// Why: QProcess (Qt 6.4's forkfd) starts a child with glibc's clone(CLONE_VM | CLONE_VFORK |
// CLONE_PIDFD): vfork semantics, the child borrowing the parent's memory until it execs. clang
// 14's TSan intercepts clone() as if it were fork(): it runs its after-fork bookkeeping in the
// child (ForkChildAfter: attach the thread to a fresh slot) and then again in the parent
// (ForkParentAfter). With CLONE_VM both run on the same ThreadState, so the parent finds the
// slot the child attached and stops the process: "ThreadSanitizer: CHECK failed:
// tsan_rtl.cpp:234 ((!thr->slot)) != (0)" under SlotAttachAndLock, inside QProcess::start. No
// TSAN_OPTIONS setting avoids it (die_after_fork is about threads the child starts; this child
// starts none).
//
// What: this definition of clone() replaces TSan's (a weak symbol in the runtime linked into the
// executable) and calls TSan's own interceptor with CLONE_VM and CLONE_VFORK taken out, so the
// child runs on a copy of the memory like a fork() child, which TSan supports. TSan does the
// same to vfork() itself (its vfork interceptor calls its fork interceptor). QProcess does not
// rely on the shared memory: the child reports a failed chdir/exec through a pipe, and forkfd
// needs no CLONE_VFORK wait (measured: FailedToStart with "execvp: No such file or directory"
// and "chdir: ..." still reported, exit codes still read). Threads are unaffected: glibc creates
// them with clone3(), and a clone() with CLONE_THREAD is passed through unchanged.

#include <sched.h>
#include <sys/types.h>

#include <cstdarg>

extern "C" {
// TSan's interceptor (compiler-rt tsan_interceptors_posix.cpp, clang 14).
int __interceptor_clone(int (*fn)(void *), void *stack, int flags, void *arg, int *parentTid, void *tls,
                        pid_t *childTid);

// glibc's declaration (sched.h): the last three arguments are optional, read only for the
// flags that use them (CLONE_PARENT_SETTID / CLONE_PIDFD, CLONE_SETTLS, CLONE_CHILD_*TID).
int clone(int (*fn)(void *), void *stack, int flags, void *arg, ...)
{
    va_list rest;
    va_start(rest, arg);
    auto *parentTid = va_arg(rest, int *);
    void *tls = va_arg(rest, void *);
    auto *childTid = va_arg(rest, pid_t *);
    va_end(rest);
    constexpr int vforkLike = CLONE_VM | CLONE_VFORK;
    if ((flags & vforkLike) == vforkLike && !(flags & CLONE_THREAD))
        flags &= ~vforkLike;
    return __interceptor_clone(fn, stack, flags, arg, parentTid, tls, childTid);
}
}
