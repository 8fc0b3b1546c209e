#define _GNU_SOURCE
#include "cprocess.h"
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <pthread.h>
#include <unistd.h>

static const char *const sloth_stages[] = { "setpgid", "prctl", "parent", "dup2", "chdir", "setgroups", "setgid", "setuid", "exec" };
enum { ST_SETPGID, ST_PRCTL, ST_PARENT, ST_DUP2, ST_CHDIR, ST_SETGROUPS, ST_SETGID, ST_SETUID, ST_EXEC };

/* Where the child says why it failed: shared memory after vfork, a close-on-exec pipe after fork. */
typedef struct sloth_failure { volatile int code; volatile int stage; int pipe_fd; } sloth_failure;

static void sloth_fail(sloth_failure *failure, int stage) {
    int report[2] = { errno, stage };
    if (failure->pipe_fd >= 0) {
        ssize_t ignored = write(failure->pipe_fd, report, sizeof report);
        (void)ignored;
    } else {
        failure->code = report[0];
        failure->stage = stage;
    }
    _exit(127);
}

/* Runs in the child: only system calls, no allocation, no locks. Credentials change by raw system
 * calls (glibc's wrappers broadcast to every thread of the process). The parent-death signal is set
 * after them, since a change of credentials clears it. */
static void sloth_child(const sloth_spawn_request *r, pid_t parent, sloth_failure *failure) {
    struct sigaction dfl = { 0 };
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++) {
        if (sig != SIGKILL && sig != SIGSTOP) sigaction(sig, &dfl, NULL);
    }
    if (setpgid(0, 0) != 0) sloth_fail(failure, ST_SETPGID);
    int fds[3] = { r->stdin_fd, r->stdout_fd, r->stderr_fd };
    for (int i = 0; i < 3; i++) {
        if (fds[i] == i) { int flags = fcntl(i, F_GETFD); if (flags >= 0) fcntl(i, F_SETFD, flags & ~FD_CLOEXEC); }
        else if (dup2(fds[i], i) < 0) sloth_fail(failure, ST_DUP2);
    }
    if (r->workdir && chdir(r->workdir) != 0) sloth_fail(failure, ST_CHDIR);
    if (r->set_nofile) {
        struct rlimit limit;
        if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
            limit.rlim_cur = r->nofile_soft;
            setrlimit(RLIMIT_NOFILE, &limit);
        }
    }
    if (r->set_ids) {
        if (syscall(SYS_setgroups, (size_t)r->group_count, r->groups) != 0) sloth_fail(failure, ST_SETGROUPS);
        if (syscall(SYS_setresgid, r->gid, r->gid, r->gid) != 0) sloth_fail(failure, ST_SETGID);
        if (syscall(SYS_setresuid, r->uid, r->uid, r->uid) != 0) sloth_fail(failure, ST_SETUID);
    }
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) sloth_fail(failure, ST_PRCTL);
    if (getppid() != parent) { errno = ESRCH; sloth_fail(failure, ST_PARENT); }
    /* Everything from 3 up goes, except the failure pipe (close-on-exec closes it at exec). */
    unsigned keep = failure->pipe_fd >= 3 ? (unsigned)failure->pipe_fd : ~0U;
    int closed = keep == ~0U ? (int)syscall(SYS_close_range, 3U, ~0U, 0U)
        : (keep > 3 ? (int)syscall(SYS_close_range, 3U, keep - 1, 0U) : 0) | (int)syscall(SYS_close_range, keep + 1, ~0U, 0U);
    if (closed != 0) {
        for (int fd = 3; fd < 65536; fd++) if (fd != failure->pipe_fd) close(fd);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execve(r->path, r->argv, r->envp);
    sloth_fail(failure, ST_EXEC);
}

/* vfork shares the daemon's memory until exec (fast, no page tables copied); a job that switches
 * user is forked instead, because a credential change marks the shared memory non-dumpable. */
pid_t sloth_spawn(const sloth_spawn_request *request, const char **stage) {
    sloth_failure failure = { 0, -1, -1 };
    int report[2] = { -1, -1 };
    if (request->set_ids && pipe2(report, O_CLOEXEC) != 0) { *stage = "pipe"; return -errno; }
    failure.pipe_fd = report[1];
    sigset_t all, saved;
    sigfillset(&all);
    /* No signal handler of the daemon may run in the child before its dispositions are reset. */
    pthread_sigmask(SIG_SETMASK, &all, &saved);
    pid_t parent = getpid();
    pid_t pid = request->set_ids ? fork() : vfork();
    if (pid == 0) sloth_child(request, parent, &failure);
    int spawn_errno = errno;
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    if (request->set_ids) {
        close(report[1]);
        if (pid > 0) {
            int got[2];
            ssize_t n;
            while ((n = read(report[0], got, sizeof got)) < 0 && errno == EINTR) {}
            if (n == (ssize_t)sizeof got) { failure.code = got[0]; failure.stage = got[1]; }
        }
        close(report[0]);
    }
    if (pid < 0) { *stage = "fork"; return -spawn_errno; }
    if (failure.stage >= 0) {
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        *stage = sloth_stages[failure.stage];
        return -(failure.code ? failure.code : EIO);
    }
    *stage = NULL;
    return pid;
}

int sloth_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

int sloth_pidfd_open(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }

long sloth_raise_nofile(void) {
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return -1;
    long previous = (long)limit.rlim_cur;
    if (limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &limit) != 0) return -1;
    }
    return previous;
}
