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

/* Runs in the vfork child: only system calls, no allocation, no locks. */
static void sloth_child(const sloth_spawn_request *r, pid_t parent, volatile int *failed_errno, const char *volatile *failed_stage) {
#define FAIL(what) do { *failed_errno = errno; *failed_stage = (what); _exit(127); } while (0)
    struct sigaction dfl = { 0 };
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++) {
        if (sig != SIGKILL && sig != SIGSTOP) sigaction(sig, &dfl, NULL);
    }
    if (setpgid(0, 0) != 0) FAIL("setpgid");
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) FAIL("prctl");
    if (getppid() != parent) { errno = ESRCH; FAIL("parent"); }
    int fds[3] = { r->stdin_fd, r->stdout_fd, r->stderr_fd };
    for (int i = 0; i < 3; i++) {
        if (fds[i] == i) { int flags = fcntl(i, F_GETFD); if (flags >= 0) fcntl(i, F_SETFD, flags & ~FD_CLOEXEC); }
        else if (dup2(fds[i], i) < 0) FAIL("dup2");
    }
    if (r->workdir && chdir(r->workdir) != 0) FAIL("chdir");
    if (r->set_nofile) {
        struct rlimit limit;
        if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
            limit.rlim_cur = r->nofile_soft;
            setrlimit(RLIMIT_NOFILE, &limit);
        }
    }
    /* Raw system calls: glibc's wrappers broadcast credential changes to every thread of the process,
     * and the vfork child would reach the daemon's own threads. */
    if (r->set_ids) {
        if (syscall(SYS_setgroups, (size_t)r->group_count, r->groups) != 0) FAIL("setgroups");
        if (syscall(SYS_setresgid, r->gid, r->gid, r->gid) != 0) FAIL("setgid");
        if (syscall(SYS_setresuid, r->uid, r->uid, r->uid) != 0) FAIL("setuid");
    }
    if (syscall(SYS_close_range, 3U, ~0U, 0U) != 0) {
        for (int fd = 3; fd < 65536; fd++) close(fd);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execve(r->path, r->argv, r->envp);
    FAIL("exec");
#undef FAIL
}

pid_t sloth_spawn(const sloth_spawn_request *request, const char **stage) {
    volatile int failed_errno = 0;
    const char *volatile failed_stage = NULL;
    sigset_t all, saved;
    sigfillset(&all);
    /* No signal handler of the daemon may run in the child, which shares its memory until exec. */
    pthread_sigmask(SIG_SETMASK, &all, &saved);
    pid_t parent = getpid();
    pid_t pid = vfork();
    if (pid == 0) sloth_child(request, parent, &failed_errno, &failed_stage);
    int spawn_errno = errno;
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    if (pid < 0) { *stage = "fork"; return -spawn_errno; }
    if (failed_stage != NULL) {
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        *stage = failed_stage;
        return -(failed_errno ? failed_errno : EIO);
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
