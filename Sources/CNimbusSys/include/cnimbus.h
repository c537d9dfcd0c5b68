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

/// Creates a network namespace with its loopback up and `count` TCP sockets listening on 127.0.0.1:`ports[i]`
/// inside it (`listen_fds[i]`), without moving the calling thread (it switches back before returning). Returns 0
/// or an errno value; on failure nothing is left open.
int cnimbus_netns_create(const int *ports, int count, int *ns_fd, int *listen_fds);

/// A memfd holding the seccomp BPF program for sandboxed functions (bwrap --seccomp), or -1.
int cnimbus_seccomp_program_fd(void);

/// Like cnimbus_spawn, for sandboxes and their helpers: the child joins the cgroups whose `cgroup.procs` paths are
/// given (NULL-terminated), enters the network namespace `netns_fd` (if >= 0), gets `extra_fd` and `extra_fd2` as
/// descriptors 3 and 4 (if >= 0), then execs `path`. Returns 0, or the errno of the failed step (the child then
/// exited with 127).
int cnimbus_spawn_sandboxed(const char *path, char *const argv[], char *const envp[], const char *cwd, int output_fd,
                            int netns_fd, const char *const cgroup_procs[], int extra_fd, int extra_fd2,
                            pid_t *pid_out);

/// Forks a launcher for a sandbox, ahead of time: the child joins the cgroups, enters the network namespace, takes
/// `output_fd` as stdout/stderr and `seccomp_fd` as fd 3, then waits on `command_fd` for its command
/// ("path\0cwd\0argc\0envc\0args…\0env…\0", then end of file) and execs it; end of file without a command makes it
/// exit 0. Moving a task between cgroups waits for an RCU grace period (milliseconds): done here, off the
/// invocation path. Returns 0 or an errno value.
int cnimbus_launcher_fork(int netns_fd, const char *const cgroup_procs[], int output_fd, int seccomp_fd,
                          int command_fd, pid_t *pid_out);

/// Sets the calling thread's nice value (Linux threads have their own).
int cnimbus_lower_thread_priority(int nice_value);

#endif
