/* azr-zygote: a single-threaded, pre-initialised CPython that forks one confined child per job.
 *
 * The pool (Sandbox/ZygoteProcess.swift) spawns it with a socket on fd 0 and nothing else, sends one config
 * (prelude source, seccomp program, limits), then jobs. For each job the zygote forks; the child drops to
 * default signal handlers, closes every fd but its result pipe, sets rlimits, no-new-privs and the seccomp
 * filter, then calls the prelude's _azr_run(payload) and writes the bytes it returns. The zygote itself never
 * runs untrusted code, so its interpreter stays pristine between jobs. */
#define _GNU_SOURCE
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "zygote_wire.h"

#define CONTROL_FD 0
#define CHILD_RESULT_FD 3
/* Files a child may hold open at once when it may read files: enough for an import chain's source and
 * extension modules, few enough that a program cannot pin many. */
#define CHILD_READ_FDS 16

/* Access rights by Landlock ABI version, for kernels newer than this header. */
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif

static struct azr_config_header config;
static struct sock_fprog seccomp_program;
static PyObject *run_function;
static int devnull_fd = -1;
static pid_t zygote_pid;
/* max_result_bytes + 1, mapped once (a per-job malloc of megabytes would be an mmap each time) and kept out of
 * the children: fork copies the page-table entry of every page a large result once touched, so a single
 * 4 MB result would otherwise make each later fork about a thousand entries dearer. */
static char *result_buffer;
/* A Landlock ruleset built once in the zygote (read-only beneath the policy's paths, nothing else) that each
 * child enforces on itself before its seccomp filter; -1 when the policy lets children read no files. */
static int landlock_ruleset = -1;

static int read_exact(int fd, void *buffer, size_t length) {
    char *cursor = buffer;
    while (length > 0) {
        ssize_t got = read(fd, cursor, length);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return -1;
        cursor += got;
        length -= (size_t)got;
    }
    return 0;
}

static int write_exact(int fd, const void *buffer, size_t length) {
    const char *cursor = buffer;
    while (length > 0) {
        ssize_t put = write(fd, cursor, length);
        if (put < 0 && errno == EINTR) continue;
        if (put <= 0) return -1;
        cursor += put;
        length -= (size_t)put;
    }
    return 0;
}

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void send_ready(uint32_t status, const char *message) {
    struct azr_ready_header header = {AZR_MAGIC_READY, status, (uint32_t)strlen(message), (uint32_t)getpid()};
    if (write_exact(CONTROL_FD, &header, sizeof header) != 0 ||
        write_exact(CONTROL_FD, message, header.message_len) != 0)
        _exit(3);
}

/* fork() copies page-table entries only for mappings that own anonymous pages. libpython's text does not, so
 * each child would fault in every interpreter code page it executes again (measured: ~75 faults of ~4 us
 * each per trivial job on this VM). Copy-on-writing one byte of that mapping with its own value gives it an
 * anon_vma, so fork hands children the zygote's warm entries for it. Only libpython's text: doing the same
 * for every library made fork and exit dearer than the faults it saved. Runs once, before any job, and
 * restores the mapping's protection. */
static void share_interpreter_text_with_children(void) {
    FILE *maps = fopen("/proc/self/maps", "re");
    if (maps == NULL) return;
    char line[768];
    while (fgets(line, sizeof line, maps)) {
        unsigned long start, end;
        char perms[5];
        if (sscanf(line, "%lx-%lx %4s", &start, &end, perms) != 3) continue;
        if (strcmp(perms, "r-xp") != 0 || strstr(line, "libpython") == NULL) continue;
        if (mprotect((void *)start, end - start, PROT_READ | PROT_WRITE | PROT_EXEC) != 0) continue;
        volatile char *first = (volatile char *)start;
        *first = *first;
        mprotect((void *)start, end - start, PROT_READ | PROT_EXEC);
    }
    fclose(maps);
}

/* Runs the prelude once; failure is reported to the pool as text rather than as a silent exit. */
static int load_prelude(const char *source) {
    PyObject *main_module = PyImport_AddModule("__main__");
    PyObject *globals = main_module ? PyModule_GetDict(main_module) : NULL;
    PyObject *result = globals ? PyRun_String(source, Py_file_input, globals, globals) : NULL;
    if (result == NULL) {
        PyObject *type, *value, *traceback;
        PyErr_Fetch(&type, &value, &traceback);
        PyObject *text = value ? PyObject_Str(value) : NULL;
        const char *utf8 = text ? PyUnicode_AsUTF8(text) : NULL;
        char message[512];
        snprintf(message, sizeof message, "prelude failed: %s", utf8 ? utf8 : "unknown error");
        send_ready(1, message);
        return -1;
    }
    Py_DECREF(result);
    run_function = PyDict_GetItemString(globals, "_azr_run");
    if (run_function == NULL || !PyCallable_Check(run_function)) {
        send_ready(1, "prelude failed: it does not define _azr_run");
        return -1;
    }
    Py_INCREF(run_function);
    return 0;
}

/* Filesystem rights the running kernel's Landlock knows, so a ruleset that handles all of them denies every
 * kind of access no rule grants. */
static uint64_t landlock_handled_rights(long abi) {
    uint64_t rights = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1; /* ABI 1: execute .. make_sym */
    if (abi >= 2) rights |= LANDLOCK_ACCESS_FS_REFER;
    if (abi >= 3) rights |= LANDLOCK_ACCESS_FS_TRUNCATE;
    if (abi >= 5) rights |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
    return rights;
}

/* Grants reading beneath `path` (a directory: its files and listings; a file: its contents). Missing paths
 * are skipped: sys.path names a zip file that Debian does not ship. */
static const char *landlock_allow_reading(int ruleset, const char *path, char *message, size_t size) {
    int fd = open(path, O_PATH | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? NULL : (snprintf(message, size, "cannot open readable path %s: %s", path, strerror(errno)), message);
    struct stat info;
    int is_directory = fstat(fd, &info) == 0 && S_ISDIR(info.st_mode);
    struct landlock_path_beneath_attr rule = {
        .allowed_access = LANDLOCK_ACCESS_FS_READ_FILE | (is_directory ? LANDLOCK_ACCESS_FS_READ_DIR : 0),
        .parent_fd = fd,
    };
    long status = syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0);
    close(fd);
    if (status != 0) return snprintf(message, size, "Landlock refused a rule for %s: %s", path, strerror(errno)), message;
    return NULL;
}

/* Builds the ruleset from the config's newline-separated paths; "python_stdlib" stands for every directory on
 * this interpreter's sys.path. Returns NULL or the reason, for the ready message. */
static const char *build_landlock_ruleset(char *paths, char *message, size_t size) {
    long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    if (abi < 1)
        return "the policy lets programs read files, which needs Landlock (Linux 5.13 or later, with landlock among the boot-time LSMs)";
    struct landlock_ruleset_attr attr = {.handled_access_fs = landlock_handled_rights(abi)};
    int created = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0);
    if (created < 0) return snprintf(message, size, "cannot create a Landlock ruleset: %s", strerror(errno)), message;
    /* Above the child's fixed descriptors 0..3, which confine_child overwrites before the ruleset is used. */
    landlock_ruleset = fcntl(created, F_DUPFD_CLOEXEC, CHILD_RESULT_FD + 1);
    close(created);
    if (landlock_ruleset < 0) return "cannot place the Landlock ruleset's descriptor";
    for (char *path = strtok(paths, "\n"); path != NULL; path = strtok(NULL, "\n")) {
        const char *problem = NULL;
        if (strcmp(path, "python_stdlib") == 0) {
            PyObject *entries = PySys_GetObject("path"); /* borrowed */
            Py_ssize_t count = entries && PyList_Check(entries) ? PyList_GET_SIZE(entries) : 0;
            for (Py_ssize_t index = 0; index < count && problem == NULL; index++) {
                const char *entry = PyUnicode_Check(PyList_GET_ITEM(entries, index)) ? PyUnicode_AsUTF8(PyList_GET_ITEM(entries, index)) : NULL;
                if (entry != NULL && entry[0] == '/') problem = landlock_allow_reading(landlock_ruleset, entry, message, size);
            }
        } else {
            problem = landlock_allow_reading(landlock_ruleset, path, message, size);
        }
        if (problem != NULL) return problem;
    }
    return NULL;
}

static void set_limit(int resource, rlim_t soft, rlim_t hard) {
    struct rlimit limit = {soft, hard};
    if (setrlimit(resource, &limit) != 0) _exit(120);
}

/* Everything between fork and the untrusted code. Any failure exits with a code in 119..124, which the pool
 * reports as a sandbox failure, never as a program result. */
static void confine_child(int result_fd) {
    for (int sig = 1; sig < NSIG; sig++) signal(sig, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);

    if (dup2(devnull_fd, 0) < 0 || dup2(devnull_fd, 1) < 0 || dup2(devnull_fd, 2) < 0) _exit(121);
    if (dup2(result_fd, CHILD_RESULT_FD) < 0) _exit(121);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(123);
    /* Before close_range, which closes the ruleset's descriptor. */
    if (landlock_ruleset >= 0 && syscall(SYS_landlock_restrict_self, landlock_ruleset, 0) != 0) _exit(119);
    if (syscall(SYS_close_range, CHILD_RESULT_FD + 1, ~0u, 0) != 0) _exit(121);

    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) _exit(122);
    if (getppid() != zygote_pid) _exit(122);

    set_limit(RLIMIT_CPU, (rlim_t)config.cpu_seconds, (rlim_t)config.cpu_seconds + 1);
    if (config.address_space) set_limit(RLIMIT_AS, (rlim_t)config.address_space, (rlim_t)config.address_space);
    set_limit(RLIMIT_FSIZE, 0, 0);
    set_limit(RLIMIT_NPROC, 0, 0);
    set_limit(RLIMIT_CORE, 0, 0);
    rlim_t descriptors = CHILD_RESULT_FD + 1 + (landlock_ruleset >= 0 ? CHILD_READ_FDS : 0);
    set_limit(RLIMIT_NOFILE, descriptors, descriptors);

    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &seccomp_program) != 0) _exit(124);
}

/* Confines one throwaway child through the real path before the first job, so a kernel without pidfd_open,
 * close_range or seccomp filters makes the pool refuse to start with one clear reason, rather than fail or
 * crawl to the deadline on every job. Returns NULL when all is well. */
static const char *self_test(void) {
    int pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
    if (pidfd < 0) return "kernel lacks pidfd_open (needs Linux 5.9 or later)";
    close(pidfd);
    if (syscall(SYS_close_range, ~0u - 1, ~0u, 0) != 0) return "kernel lacks close_range (needs Linux 5.9 or later)";
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return "pipe2 failed";
    pid_t pid = fork();
    if (pid < 0) return "fork failed";
    if (pid == 0) {
        PyOS_AfterFork_Child();
        confine_child(fds[1]);
        _exit(0);
    }
    close(fds[1]);
    close(fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (!WIFEXITED(status)) return "a confined test child was killed before it could exit (does the policy allow exit_group?)";
    switch (WEXITSTATUS(status)) {
    case 0: return NULL;
    case 120: return "cannot set resource limits";
    case 121: return "cannot arrange the child's file descriptors";
    case 122: return "cannot set PR_SET_PDEATHSIG";
    case 123: return "cannot set PR_SET_NO_NEW_PRIVS";
    case 124: return "the kernel refused the seccomp filter";
    case 119: return "the kernel refused to enforce the Landlock ruleset";
    default: return "a confined test child failed";
    }
}

static void run_child(int result_fd, const char *payload, uint32_t payload_len) {
    PyOS_AfterFork_Child();
    confine_child(result_fd);
    PyObject *argument = PyBytes_FromStringAndSize(payload, payload_len);
    PyObject *result = argument ? PyObject_CallOneArg(run_function, argument) : NULL;
    if (result == NULL || !PyBytes_Check(result)) _exit(125);
    if (write_exact(CHILD_RESULT_FD, PyBytes_AS_STRING(result), (size_t)PyBytes_GET_SIZE(result)) != 0) _exit(126);
    _exit(0);
}

/* Runs one job to its end: the child exits, is killed at the deadline, or overflows its result cap. The
 * child is always reaped before this returns, so a zygote never accumulates children. */
static void run_job(const struct azr_job_header *job, const char *payload) {
    struct azr_result_header reply = {0};
    reply.magic = AZR_MAGIC_RESULT;
    reply.job_id = job->job_id;

    size_t capacity = (size_t)config.max_result_bytes;
    char *result = result_buffer;
    size_t result_len = 0;
    int pipe_fds[2];
    uint64_t started = now_ns();
    if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
        reply.end = AZR_END_FORK_FAILED;
        reply.code = errno;
        goto send;
    }

    pid_t pid = fork();
    if (pid < 0) {
        reply.end = AZR_END_FORK_FAILED;
        reply.code = errno;
        close(pipe_fds[0]);
        close(pipe_fds[1]);
        goto send;
    }
    if (pid == 0) run_child(pipe_fds[1], payload, job->payload_len);

    close(pipe_fds[1]);
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    uint64_t deadline = started + job->timeout_ms * 1000000ull;
    int killed_for = -1, pipe_open = 1, exited = 0;
    while (!exited || pipe_open) {
        struct pollfd fds[3] = {
            {pipe_open ? pipe_fds[0] : -1, POLLIN, 0},
            {exited ? -1 : pidfd, POLLIN, 0},
            {CONTROL_FD, 0, 0}, /* POLLHUP only: the pool went away */
        };
        uint64_t now = now_ns();
        int wait_ms = now >= deadline ? 0 : (int)((deadline - now + 999999) / 1000000);
        int ready = poll(fds, 3, exited ? 1000 : wait_ms);
        if (ready < 0 && errno == EINTR) continue;
        if (fds[2].revents & (POLLHUP | POLLERR)) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            _exit(0);
        }
        if (fds[0].revents) {
            ssize_t got = read(pipe_fds[0], result + result_len, capacity + 1 - result_len);
            if (got > 0) {
                result_len += (size_t)got;
                if (result_len > capacity && killed_for < 0) {
                    killed_for = AZR_END_RESULT_TOO_BIG;
                    kill(pid, SIGKILL);
                    result_len = 0;
                    pipe_open = 0;
                }
            } else if (got == 0 || errno != EAGAIN) {
                pipe_open = 0;
            }
        }
        if (fds[1].revents) exited = 1;
        if (!exited && now_ns() >= deadline && killed_for < 0) {
            killed_for = AZR_END_TIMEOUT;
            kill(pid, SIGKILL);
        }
        /* A dead child holds no write end, so once it has exited a closed pipe is only a matter of draining.
         * The 1 s poll above bounds that in case something else (it cannot) kept the pipe open. */
        if (exited && ready == 0) pipe_open = 0;
    }
    close(pipe_fds[0]);
    if (pidfd >= 0) close(pidfd);

    int status = 0;
    struct rusage usage;
    while (wait4(pid, &status, 0, &usage) < 0 && errno == EINTR) {}
    reply.cpu_ns = (uint64_t)usage.ru_utime.tv_sec * 1000000000ull + (uint64_t)usage.ru_utime.tv_usec * 1000ull +
                   (uint64_t)usage.ru_stime.tv_sec * 1000000000ull + (uint64_t)usage.ru_stime.tv_usec * 1000ull;
    reply.max_rss_kb = (uint64_t)usage.ru_maxrss;
    if (killed_for >= 0) {
        reply.end = killed_for;
        reply.code = SIGKILL;
        if (killed_for == AZR_END_RESULT_TOO_BIG) result_len = 0;
    } else if (WIFSIGNALED(status)) {
        reply.end = AZR_END_SIGNALED;
        reply.code = WTERMSIG(status);
    } else {
        reply.end = AZR_END_EXITED;
        reply.code = WEXITSTATUS(status);
    }

send:
    reply.wall_ns = now_ns() - started;
    reply.result_len = (uint32_t)result_len;
    if (write_exact(CONTROL_FD, &reply, sizeof reply) != 0 ||
        (result_len && write_exact(CONTROL_FD, result, result_len) != 0))
        _exit(0);
}

int main(void) {
    /* The loader has read it (the pool sets it so that children inherit every symbol bound); the programs
     * the children run need not see it. */
    unsetenv("LD_BIND_NOW");
    zygote_pid = getpid();
    devnull_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull_fd < 0) return 2;

    if (read_exact(CONTROL_FD, &config, sizeof config) != 0 || config.magic != AZR_MAGIC_CONFIG) return 2;
    char *prelude = malloc((size_t)config.prelude_len + 1);
    void *filter = malloc(config.bpf_len ? config.bpf_len : 1);
    char *readable = malloc((size_t)config.readable_len + 1);
    if (!prelude || !filter || !readable || read_exact(CONTROL_FD, prelude, config.prelude_len) != 0 ||
        read_exact(CONTROL_FD, filter, config.bpf_len) != 0 || read_exact(CONTROL_FD, readable, config.readable_len) != 0)
        return 2;
    prelude[config.prelude_len] = 0;
    readable[config.readable_len] = 0;
    if (config.bpf_len == 0 || config.bpf_len % sizeof(struct sock_filter) != 0) {
        send_ready(1, "config carries no seccomp program");
        return 2;
    }
    seccomp_program.len = (unsigned short)(config.bpf_len / sizeof(struct sock_filter));
    seccomp_program.filter = filter;
    size_t result_capacity = (size_t)config.max_result_bytes + 1;
    result_buffer = mmap(NULL, result_capacity, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (result_buffer == MAP_FAILED || madvise(result_buffer, result_capacity, MADV_DONTFORK) != 0) {
        send_ready(1, "cannot allocate the result buffer");
        return 2;
    }

    /* Isolated: no environment variables, no user site, no site import, no signal handlers of Python's own;
     * a fixed hash seed so str/bytes hashing (and so set iteration order) is the same in every run. */
    PyConfig py_config;
    PyConfig_InitIsolatedConfig(&py_config);
    py_config.install_signal_handlers = 0;
    py_config.use_hash_seed = 1;
    py_config.hash_seed = 0;
    py_config.site_import = 0;
    py_config.write_bytecode = 0;
    PyStatus status = Py_InitializeFromConfig(&py_config);
    PyConfig_Clear(&py_config);
    if (PyStatus_Exception(status)) {
        send_ready(1, status.err_msg ? status.err_msg : "Python failed to initialise");
        return 2;
    }
    if (load_prelude(prelude) != 0) return 2;
    free(prelude);
    if (config.readable_len > 0) {
        char message[512];
        const char *problem = build_landlock_ruleset(readable, message, sizeof message);
        if (problem != NULL) {
            send_ready(1, problem);
            return 2;
        }
    }
    free(readable);
    share_interpreter_text_with_children();
    const char *problem = self_test();
    if (problem != NULL) {
        send_ready(1, problem);
        return 2;
    }
    send_ready(0, "");

    for (;;) {
        struct azr_job_header job;
        if (read_exact(CONTROL_FD, &job, sizeof job) != 0 || job.magic != AZR_MAGIC_JOB) return 0;
        char *payload = malloc((size_t)job.payload_len + 1);
        if (payload == NULL || read_exact(CONTROL_FD, payload, job.payload_len) != 0) return 0;
        run_job(&job, payload);
        free(payload);
    }
}
