#define _GNU_SOURCE
#include "cnimbus.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

/* ---- network namespaces ------------------------------------------------------------------------------------ */

int cnimbus_netns_create(const int *ports, int count, int *ns_fd, int *listen_fds) {
    int original = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (original < 0) return errno;
    if (unshare(CLONE_NEWNET) != 0) {
        int e = errno;
        close(original);
        return e;
    }
    int rc = 0;
    int opened = 0;
    *ns_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (*ns_fd < 0) rc = errno;
    if (rc == 0) {
        int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        struct ifreq ifr;
        memset(&ifr, 0, sizeof ifr);
        strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
        if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) != 0) rc = errno;
        if (rc == 0) {
            ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
            if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0) rc = errno;
        }
        if (s >= 0) close(s);
    }
    for (; rc == 0 && opened < count; opened++) {
        int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        int one = 1;
        struct sockaddr_in addr;
        memset(&addr, 0, sizeof addr);
        addr.sin_family = AF_INET;
        addr.sin_port = htons((uint16_t)ports[opened]);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (l < 0 || setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
            bind(l, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(l, 16) != 0) {
            rc = errno;
            if (l >= 0) close(l);
            break;
        }
        listen_fds[opened] = l;
    }
    /* Back to the server's namespace: this thread must never stay in the sandbox's. */
    if (setns(original, CLONE_NEWNET) != 0) abort();
    close(original);
    if (rc != 0) {
        for (int i = 0; i < opened; i++) close(listen_fds[i]);
        if (*ns_fd >= 0) {
            close(*ns_fd);
            *ns_fd = -1;
        }
    }
    return rc;
}

/* ---- seccomp ----------------------------------------------------------------------------------------------- */

#if defined(__x86_64__)
#define NIMBUS_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NIMBUS_AUDIT_ARCH AUDIT_ARCH_AARCH64
#else
#error "unsupported architecture for the seccomp filter"
#endif

/* System calls a function never needs: mounting, modules, kexec, BPF, keyrings, ptrace and process memory access,
 * namespaces, clock and host changes, swap, reboot. Refused with EPERM (programs handle that better than a kill). */
static const int denied[] = {
#ifdef SYS_mount
    SYS_mount,
#endif
    SYS_umount2, SYS_pivot_root, SYS_chroot, SYS_swapon, SYS_swapoff, SYS_reboot, SYS_kexec_load,
#ifdef SYS_kexec_file_load
    SYS_kexec_file_load,
#endif
    SYS_init_module, SYS_finit_module, SYS_delete_module, SYS_bpf, SYS_perf_event_open, SYS_ptrace,
    SYS_process_vm_readv, SYS_process_vm_writev, SYS_keyctl, SYS_add_key, SYS_request_key, SYS_acct, SYS_quotactl,
    SYS_syslog, SYS_settimeofday, SYS_clock_settime, SYS_clock_adjtime, SYS_adjtimex, SYS_open_by_handle_at,
    SYS_name_to_handle_at, SYS_setns, SYS_unshare, SYS_userfaultfd, SYS_sethostname, SYS_setdomainname,
    SYS_vhangup, SYS_kcmp, SYS_lookup_dcookie,
#ifdef SYS_fsopen
    SYS_fsopen, SYS_fsconfig, SYS_fsmount, SYS_fspick, SYS_move_mount, SYS_open_tree,
#endif
#ifdef SYS_mount_setattr
    SYS_mount_setattr,
#endif
#ifdef SYS_iopl
    SYS_iopl, SYS_ioperm,
#endif
#ifdef SYS_uselib
    SYS_uselib, SYS_ustat, SYS_sysfs,
#endif
};

#define NAMESPACE_FLAGS (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP)

int cnimbus_seccomp_program_fd(void) {
    enum { MAX = 128 };
    struct sock_filter f[MAX];
    int n = 0;
    int count = (int)(sizeof denied / sizeof denied[0]);
    /* Wrong architecture: kill. */
    f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
    f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NIMBUS_AUDIT_ARCH, 1, 0);
    f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
    f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
#if defined(__x86_64__)
    /* The x32 ABI: refuse outright. */
    f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1);
    f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM);
#endif
    for (int i = 0; i < count; i++) {
        f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)denied[i], 0, 1);
        f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM);
    }
#ifdef SYS_clone3
    /* clone3 passes flags in memory, which a filter cannot read: ENOSYS makes libc fall back to clone. */
    f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone3, 0, 1);
    f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS);
#endif
    /* clone with namespace flags (x86_64 and aarch64 both take flags as the first argument). */
    f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, 0, 3);
    f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]));
    f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, NAMESPACE_FLAGS, 0, 1);
    f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM);
    f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    if (n > MAX) abort();
    int fd = (int)syscall(SYS_memfd_create, "nimbus-seccomp", MFD_CLOEXEC);
    if (fd < 0) return -1;
    size_t size = (size_t)n * sizeof f[0];
    if (write(fd, f, size) != (ssize_t)size || lseek(fd, 0, SEEK_SET) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* ---- spawning into a sandbox ------------------------------------------------------------------------------- */

/* In a freshly forked or vforked child: default signal handlers, a new session, the given cgroups and network
 * namespace. System calls only. Returns 0 or -1 (errno set). */
static int child_enter(const char *const cgroup_procs[], int netns_fd) {
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int s = 1; s < NSIG; s++) {
        if (s != SIGKILL && s != SIGSTOP) sigaction(s, &dfl, NULL);
    }
    if (setsid() < 0) return -1;
    /* A launcher's thread may run at a lower priority; the function must not inherit it. */
    setpriority(PRIO_PROCESS, 0, 0);
    for (int i = 0; cgroup_procs && cgroup_procs[i]; i++) {
        int fd = open(cgroup_procs[i], O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, "0", 1) != 1) return -1;
        close(fd);
    }
    if (netns_fd >= 0 && setns(netns_fd, CLONE_NEWNET) != 0) return -1;
    return 0;
}

int cnimbus_spawn_sandboxed(const char *path, char *const argv[], char *const envp[], const char *cwd, int output_fd,
                            int netns_fd, const char *const cgroup_procs[], int extra_fd, int extra_fd2,
                            pid_t *pid_out) {
    /* Everything the child needs is prepared here: after vfork it may only make system calls. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    volatile int child_error = 0;
    pid_t pid = vfork();
    if (pid == 0) {
        /* Child (shares memory with the parent until execve). */
        if (child_enter(cgroup_procs, netns_fd) != 0) goto fail;
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull < 0 || dup2(devnull, 0) < 0) goto fail;
        if (dup2(output_fd, 1) < 0 || dup2(output_fd, 2) < 0) goto fail;
        /* Extra descriptors become 3 and 4 (moved out of the way first, so neither overwrites the other). */
        int a = extra_fd >= 0 ? fcntl(extra_fd, F_DUPFD, 10) : -1;
        int b = extra_fd2 >= 0 ? fcntl(extra_fd2, F_DUPFD, 10) : -1;
        if ((extra_fd >= 0 && a < 0) || (extra_fd2 >= 0 && b < 0)) goto fail;
        if (a >= 0 && dup2(a, 3) < 0) goto fail;
        if (b >= 0 && dup2(b, 4) < 0) goto fail;
        syscall(SYS_close_range, b >= 0 ? 5 : (a >= 0 ? 4 : 3), ~0U, 0);
        if (chdir(cwd) != 0) goto fail;
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execve(path, argv, envp);
    fail:
        child_error = errno ? errno : EIO;
        _exit(127);
    }
    int e = pid < 0 ? errno : child_error;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (pid < 0) return e;
    *pid_out = pid;
    return e; /* non-zero: the child failed before execve and has exited with 127 */
}

/* ---- pre-forked launchers ---------------------------------------------------------------------------------- */

enum { LAUNCH_BLOB_MAX = 1 << 20, LAUNCH_ARGS_MAX = 4096 };

int cnimbus_launcher_fork(int netns_fd, const char *const cgroup_procs[], int output_fd, int seccomp_fd,
                          int command_fd, pid_t *pid_out) {
    /* Buffers the child fills after fork: allocated here, so the child never calls malloc. */
    char *blob = malloc(LAUNCH_BLOB_MAX);
    char **vectors = malloc(sizeof(char *) * LAUNCH_ARGS_MAX * 2);
    if (!blob || !vectors) {
        free(blob);
        free(vectors);
        return ENOMEM;
    }
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid_t pid = fork();
    if (pid == 0) {
        /* Child: only system calls from here on. */
        if (child_enter(cgroup_procs, netns_fd) != 0) _exit(126);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull < 0 || dup2(devnull, 0) < 0) _exit(126);
        if (dup2(output_fd, 1) < 0 || dup2(output_fd, 2) < 0) _exit(126);
        if (dup2(seccomp_fd, 3) < 0 || dup2(command_fd, 4) < 0) _exit(126);
        syscall(SYS_close_range, 5, ~0U, 0);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        /* Wait for the command: "path\0cwd\0argc\0envc\0arg…\0env…\0". EOF without one: not needed, exit. */
        size_t used = 0;
        for (;;) {
            ssize_t n = read(4, blob + used, LAUNCH_BLOB_MAX - 1 - used);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            used += (size_t)n;
            if (used >= LAUNCH_BLOB_MAX - 1) _exit(126);
        }
        close(4);
        if (used == 0) _exit(0);
        blob[used] = 0;
        char *fields[4];
        char *p = blob;
        for (int i = 0; i < 4; i++) {
            fields[i] = p;
            p += strlen(p) + 1;
            if (p > blob + used) _exit(126);
        }
        long argc = strtol(fields[2], NULL, 10), envc = strtol(fields[3], NULL, 10);
        if (argc <= 0 || envc < 0 || argc + envc + 2 > LAUNCH_ARGS_MAX * 2) _exit(126);
        char **argv = vectors, **envp = vectors + argc + 1;
        for (long i = 0; i < argc + envc; i++) {
            if (p >= blob + used) _exit(126);
            if (i < argc) argv[i] = p; else envp[i - argc] = p;
            p += strlen(p) + 1;
        }
        argv[argc] = NULL;
        envp[envc] = NULL;
        if (chdir(fields[1]) != 0) _exit(126);
        /* bwrap's options (host paths included) go through a memfd (`--args FD`), so that the sandbox's pid 1,
         * whose command line the function can read, shows only the command after "--". */
        long separator = -1;
        for (long i = 1; i < argc; i++) {
            if (strcmp(argv[i], "--") == 0) {
                separator = i;
                break;
            }
        }
        enum { SHORT_MAX = 256 };
        char *short_argv[SHORT_MAX];
        char fd_text[16];
        if (separator < 0 || argc - separator + 4 > SHORT_MAX) {
            execve(fields[0], argv, envp);
            _exit(127);
        }
        int args_fd = (int)syscall(SYS_memfd_create, "nimbus-args", 0);
        if (args_fd < 0) _exit(126);
        for (long i = 1; i < separator; i++) {
            size_t len = strlen(argv[i]) + 1;
            if (write(args_fd, argv[i], len) != (ssize_t)len) _exit(126);
        }
        if (lseek(args_fd, 0, SEEK_SET) != 0) _exit(126);
        int n = 0, v = args_fd;
        char digits[16];
        do {
            digits[n++] = (char)('0' + v % 10);
            v /= 10;
        } while (v > 0 && n < 15);
        for (int i = 0; i < n; i++) fd_text[i] = digits[n - 1 - i];
        fd_text[n] = 0;
        int k = 0;
        short_argv[k++] = argv[0];
        short_argv[k++] = "--args";
        short_argv[k++] = fd_text;
        for (long i = separator; i < argc; i++) short_argv[k++] = argv[i];
        short_argv[k] = NULL;
        execve(fields[0], short_argv, envp);
        _exit(127);
    }
    int e = pid < 0 ? errno : 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    free(blob);
    free(vectors);
    if (pid < 0) return e;
    *pid_out = pid;
    return 0;
}

int cnimbus_lower_thread_priority(int nice_value) {
    return setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), nice_value);
}
