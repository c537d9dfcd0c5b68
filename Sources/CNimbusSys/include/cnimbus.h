#ifndef CNIMBUS_H
#define CNIMBUS_H
#include <sys/types.h>

/// Spawns `path` in a new session (so it leads its own process group), with stdin from /dev/null, stdout and
/// stderr on `output_fd`, working directory `cwd`, every other descriptor closed, default signal dispositions
/// and an empty signal mask. Returns 0 and the pid, or an errno value.
int cnimbus_spawn(const char *path, char *const argv[], char *const envp[], const char *cwd, int output_fd,
                  pid_t *pid_out);

/// pidfd_open(2): a descriptor that becomes readable when the process exits; -1 with errno on failure.
int cnimbus_pidfd_open(pid_t pid);

/// pipe2(fds, O_CLOEXEC).
int cnimbus_pipe_cloexec(int fds[2]);

/// prctl(PR_SET_CHILD_SUBREAPER, 1).
int cnimbus_set_child_subreaper(void);

#endif
