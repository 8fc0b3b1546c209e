/* CProcess: starting job processes so that they die with slothd.
 * fork/exec with what posix_spawn cannot do: PR_SET_PDEATHSIG (the job's leader is killed when the
 * thread that started it exits, so slothd starts jobs from one long-lived thread), its own process
 * group, default signal dispositions, the original open-file limit, no inherited descriptors. */
#ifndef SLOTH_CPROCESS_H
#define SLOTH_CPROCESS_H
#include <sys/types.h>

typedef struct sloth_spawn_request {
    const char *path;           /* the executable, already resolved against PATH */
    char *const *argv;
    char *const *envp;
    const char *workdir;        /* NULL: the caller's */
    int stdin_fd, stdout_fd, stderr_fd;
    int set_ids;                /* switch to uid/gid (and groups) before exec */
    uid_t uid;
    gid_t gid;
    const gid_t *groups;
    int group_count;
    int set_nofile;             /* restore this soft RLIMIT_NOFILE in the job */
    unsigned long nofile_soft;
} sloth_spawn_request;

/* The child's pid (also its process group id), or -errno; `stage` names the step that failed. */
pid_t sloth_spawn(const sloth_spawn_request *request, const char **stage);
/* pipe2(2) with O_CLOEXEC (hidden from Swift behind _GNU_SOURCE). */
int sloth_pipe_cloexec(int fds[2]);
/* pidfd_open(2); -1 with errno on failure. */
int sloth_pidfd_open(pid_t pid);
/* Raises the soft open-file limit to the hard one; the previous soft limit, or -1. */
long sloth_raise_nofile(void);
#endif
