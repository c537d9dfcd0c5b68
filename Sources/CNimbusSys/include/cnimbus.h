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

/// Creates a network namespace with its loopback up and a TCP socket listening on 127.0.0.1:`port` inside it,
/// without moving the calling thread (it switches back before returning). Returns 0 or an errno value.
int cnimbus_netns_create(int port, int *ns_fd, int *listen_fd);

/// A memfd holding the seccomp BPF program for sandboxed functions (bwrap --seccomp), or -1.
int cnimbus_seccomp_program_fd(void);

/// Like cnimbus_spawn, for sandboxes: the child joins the cgroups whose `cgroup.procs` paths are given
/// (NULL-terminated), enters the network namespace `netns_fd` (if >= 0), gets `extra_fd` as descriptor 3 (if >= 0),
/// then execs `path`. Returns 0, or the errno of the failed step (the child then exited with 127).
int cnimbus_spawn_sandboxed(const char *path, char *const argv[], char *const envp[], const char *cwd, int output_fd,
                            int netns_fd, const char *const cgroup_procs[], int extra_fd, pid_t *pid_out);

#endif
