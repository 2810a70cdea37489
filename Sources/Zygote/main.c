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
/* A whole program with a directory of its own opens its files as well as its imports. */
#define CHILD_SCRIPT_FDS 64

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
/* The prelude's _azr_script(source) -> exit status, for script jobs; NULL if the prelude has none. */
static PyObject *script_function;
static int devnull_fd = -1;
static pid_t zygote_pid;
/* max_result_bytes + 1, mapped once (a per-job malloc of megabytes would be an mmap each time) and kept out of
 * the children: fork copies the page-table entry of every page a large result once touched, so a single
 * 4 MB result would otherwise make each later fork about a thousand entries dearer. */
static char *result_buffer;
/* A Landlock ruleset built once in the zygote (read-only beneath the policy's paths, nothing else) that each
 * child enforces on itself before its seccomp filter; -1 when the policy lets children read no files. */
static int landlock_ruleset = -1;
static long landlock_abi;
/* The readable paths again, as O_PATH descriptors kept open in the zygote: a script job that works in a
 * directory builds its own ruleset from them in the child (rules cannot be added to a shared ruleset without
 * every later child inheriting them). */
#define MAX_READABLE 64
static int readable_fds[MAX_READABLE];
static int readable_is_directory[MAX_READABLE];
static int readable_count;
/* Script jobs' stdout and stderr, kept up to max_output_bytes each and mapped once like result_buffer; bytes
 * past that are read into drain_buffer and dropped, so a chatty program never blocks on a full pipe. */
static char *stdout_buffer, *stderr_buffer;
static char drain_buffer[65536];

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
    script_function = PyDict_GetItemString(globals, "_azr_script");
    if (script_function != NULL) Py_INCREF(script_function);
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
    if (status != 0) {
        close(fd);
        return snprintf(message, size, "Landlock refused a rule for %s: %s", path, strerror(errno)), message;
    }
    /* Above the child's fixed descriptors 0..3, which confine_child overwrites before it uses these. */
    int kept = readable_count < MAX_READABLE ? fcntl(fd, F_DUPFD_CLOEXEC, CHILD_RESULT_FD + 1) : -1;
    close(fd);
    if (kept < 0) return snprintf(message, size, "cannot keep a descriptor for %s", path), message;
    readable_fds[readable_count] = kept;
    readable_is_directory[readable_count++] = is_directory;
    return NULL;
}

/* Builds the ruleset from the config's newline-separated paths; "python_stdlib" stands for every directory on
 * this interpreter's sys.path. Returns NULL or the reason, for the ready message. */
static const char *build_landlock_ruleset(char *paths, char *message, size_t size) {
    long abi = landlock_abi;
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

/* What one child gets besides the policy: its standard descriptors (-1: /dev/null), the directory it works in
 * (NULL: none, and nothing writable), and its CPU and address-space limits. */
struct child_setup {
    int stdin_fd, stdout_fd, stderr_fd;
    const char *directory;
    rlim_t cpu_seconds;
    rlim_t address_space; /* 0: unlimited */
};

/* A script's own Landlock ruleset: the policy's readable paths, and its directory to read and write beneath,
 * without links, special files or execution. Built in the child, as each run has its own directory. */
static int script_ruleset(const char *directory) {
    if (landlock_abi < 1) return -1;
    struct landlock_ruleset_attr attr = {.handled_access_fs = landlock_handled_rights(landlock_abi)};
    int ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0);
    if (ruleset < 0) return -1;
    for (int index = 0; index < readable_count; index++) {
        struct landlock_path_beneath_attr rule = {
            .allowed_access = LANDLOCK_ACCESS_FS_READ_FILE | (readable_is_directory[index] ? LANDLOCK_ACCESS_FS_READ_DIR : 0),
            .parent_fd = readable_fds[index],
        };
        if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) != 0) return -1;
    }
    int fd = open(directory, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return -1;
    struct landlock_path_beneath_attr rule = {
        .allowed_access = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_WRITE_FILE |
                          LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_DIR |
                          LANDLOCK_ACCESS_FS_MAKE_REG | (landlock_abi >= 3 ? LANDLOCK_ACCESS_FS_TRUNCATE : 0),
        .parent_fd = fd,
    };
    long status = syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0);
    close(fd);
    return status == 0 ? ruleset : -1;
}

/* Everything between fork and the untrusted code. Any failure exits with a code in 119..124, which the pool
 * reports as a sandbox failure, never as a program result. */
static void confine_child(int result_fd, const struct child_setup *setup) {
    for (int sig = 1; sig < NSIG; sig++) signal(sig, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);

    int in = setup->stdin_fd >= 0 ? setup->stdin_fd : devnull_fd;
    int out = setup->stdout_fd >= 0 ? setup->stdout_fd : devnull_fd;
    int err = setup->stderr_fd >= 0 ? setup->stderr_fd : devnull_fd;
    if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) _exit(121);
    if (dup2(result_fd, CHILD_RESULT_FD) < 0) _exit(121);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(123);
    /* Before close_range, which closes the rulesets' descriptors. */
    if (setup->directory != NULL) {
        if (chdir(setup->directory) != 0) _exit(121);
        int ruleset = script_ruleset(setup->directory);
        if (ruleset < 0 || syscall(SYS_landlock_restrict_self, ruleset, 0) != 0) _exit(119);
    } else if (landlock_ruleset >= 0 && syscall(SYS_landlock_restrict_self, landlock_ruleset, 0) != 0) {
        _exit(119);
    }
    if (syscall(SYS_close_range, CHILD_RESULT_FD + 1, ~0u, 0) != 0) _exit(121);

    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) _exit(122);
    if (getppid() != zygote_pid) _exit(122);

    set_limit(RLIMIT_CPU, setup->cpu_seconds, setup->cpu_seconds + 1);
    if (setup->address_space) set_limit(RLIMIT_AS, setup->address_space, setup->address_space);
    rlim_t file_bytes = setup->directory != NULL ? (rlim_t)config.max_file_bytes : 0;
    set_limit(RLIMIT_FSIZE, file_bytes, file_bytes);
    set_limit(RLIMIT_NPROC, 0, 0);
    set_limit(RLIMIT_CORE, 0, 0);
    rlim_t descriptors = CHILD_RESULT_FD + 1 +
                         (setup->directory != NULL ? CHILD_SCRIPT_FDS : landlock_ruleset >= 0 ? CHILD_READ_FDS : 0);
    set_limit(RLIMIT_NOFILE, descriptors, descriptors);

    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &seccomp_program) != 0) _exit(124);
}

/* The limits every call job gets: the config's. */
static struct child_setup call_setup(void) {
    struct child_setup setup = {-1, -1, -1, NULL, (rlim_t)config.cpu_seconds, (rlim_t)config.address_space};
    return setup;
}

/* The zygote's mapped size now, which a forked child starts with: a script's memory limit counts on top of it,
 * so a program gets what it asked for whatever the interpreter inherited. */
static rlim_t mapped_bytes(void) {
    int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    char text[64] = {0};
    ssize_t got = read(fd, text, sizeof text - 1);
    close(fd);
    return got > 0 ? (rlim_t)strtoull(text, NULL, 10) * (rlim_t)sysconf(_SC_PAGESIZE) : 0;
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
        struct child_setup setup = call_setup();
        confine_child(fds[1], &setup);
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
    struct child_setup setup = call_setup();
    confine_child(result_fd, &setup);
    PyObject *argument = PyBytes_FromStringAndSize(payload, payload_len);
    PyObject *result = argument ? PyObject_CallOneArg(run_function, argument) : NULL;
    if (result == NULL || !PyBytes_Check(result)) _exit(125);
    if (write_exact(CHILD_RESULT_FD, PyBytes_AS_STRING(result), (size_t)PyBytes_GET_SIZE(result)) != 0) _exit(126);
    _exit(0);
}

/* A script child writes one byte on its result pipe once confined, before the program runs: an exit status in
 * 119..126 then is the program's own, not a failed setup. */
#define SCRIPT_STARTED 'S'

static void run_script_child(int result_fd, const struct child_setup *setup, const char *source, uint32_t source_len) {
    PyOS_AfterFork_Child();
    confine_child(result_fd, setup);
    if (script_function == NULL) _exit(125);
    char started = SCRIPT_STARTED;
    if (write_exact(CHILD_RESULT_FD, &started, 1) != 0) _exit(126);
    PyObject *argument = PyBytes_FromStringAndSize(source, source_len);
    PyObject *status = argument ? PyObject_CallOneArg(script_function, argument) : NULL;
    long code = status != NULL && PyLong_Check(status) ? PyLong_AsLong(status) : 1;
    _exit((int)(code & 0xff));
}

/* One pipe the zygote drains while a child runs. */
struct stream {
    int fd;          /* -1 once closed */
    char *buffer;
    size_t capacity; /* bytes kept; the rest are read and dropped */
    size_t length;
    int overflowed;
};

/* Reads what the pipe holds; closes the stream at end of file or on an error. */
static void drain(struct stream *stream) {
    int keep = stream->length < stream->capacity;
    char *target = keep ? stream->buffer + stream->length : drain_buffer;
    size_t room = keep ? stream->capacity - stream->length : sizeof drain_buffer;
    ssize_t got = read(stream->fd, target, room);
    if (got > 0) {
        if (keep) stream->length += (size_t)got;
        else stream->overflowed = 1;
    } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
        close(stream->fd);
        stream->fd = -1;
    }
}

/* Runs one job to its end: the child exits, is killed at the deadline, or overflows its result cap. The
 * child is always reaped before this returns, so a zygote never accumulates children. */
static void run_job(const struct azr_job_header *job, const char *payload) {
    struct azr_result_header reply = {0};
    reply.magic = AZR_MAGIC_RESULT;
    reply.job_id = job->job_id;
    int script = (job->flags & AZR_JOB_SCRIPT) != 0;

    /* The result pipe keeps one byte past the cap, which is how an oversized result is noticed. */
    struct stream streams[3] = {
        {-1, result_buffer, (size_t)config.max_result_bytes + 1, 0, 0},
        {-1, stdout_buffer, (size_t)config.max_output_bytes, 0, 0},
        {-1, stderr_buffer, (size_t)config.max_output_bytes, 0, 0},
    };
    int write_ends[3] = {-1, -1, -1};
    int stdin_fd = -1;
    char *directory = NULL;
    uint64_t started = now_ns();
    for (int index = 0; index < (script ? 3 : 1); index++) {
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) != 0) {
            reply.end = AZR_END_FORK_FAILED;
            reply.code = errno;
            goto cleanup;
        }
        streams[index].fd = fds[0];
        write_ends[index] = fds[1];
    }
    struct child_setup setup = call_setup();
    if (script) {
        const char *input = payload + job->payload_len;
        if (job->stdin_len > 0) {
            stdin_fd = memfd_create("stdin", MFD_CLOEXEC);
            if (stdin_fd < 0 || write_exact(stdin_fd, input, job->stdin_len) != 0 || lseek(stdin_fd, 0, SEEK_SET) != 0) {
                reply.end = AZR_END_FORK_FAILED;
                reply.code = errno;
                goto cleanup;
            }
        }
        if (job->directory_len > 0) directory = strndup(input + job->stdin_len, job->directory_len);
        uint64_t memory = job->memory_bytes ? job->memory_bytes : config.address_space;
        setup.stdin_fd = stdin_fd;
        setup.stdout_fd = write_ends[1];
        setup.stderr_fd = write_ends[2];
        setup.directory = directory;
        setup.address_space = memory ? mapped_bytes() + (rlim_t)memory : 0;
    }
    if (job->cpu_seconds) setup.cpu_seconds = job->cpu_seconds;

    pid_t pid = fork();
    if (pid < 0) {
        reply.end = AZR_END_FORK_FAILED;
        reply.code = errno;
        goto cleanup;
    }
    if (pid == 0) {
        if (script) run_script_child(write_ends[0], &setup, payload, job->payload_len);
        run_child(write_ends[0], payload, job->payload_len);
    }
    for (int index = 0; index < 3; index++) {
        if (write_ends[index] >= 0) close(write_ends[index]);
        write_ends[index] = -1;
    }

    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    uint64_t deadline = started + job->timeout_ms * 1000000ull;
    int killed_for = -1, exited = 0;
    for (;;) {
        int open_streams = (streams[0].fd >= 0) + (streams[1].fd >= 0) + (streams[2].fd >= 0);
        if (exited && open_streams == 0) break;
        struct pollfd fds[5] = {
            {streams[0].fd, POLLIN, 0},
            {streams[1].fd, POLLIN, 0},
            {streams[2].fd, POLLIN, 0},
            {exited ? -1 : pidfd, POLLIN, 0},
            {CONTROL_FD, 0, 0}, /* POLLHUP only: the pool went away */
        };
        uint64_t now = now_ns();
        int wait_ms = now >= deadline ? 0 : (int)((deadline - now + 999999) / 1000000);
        int ready = poll(fds, 5, exited ? 1000 : wait_ms);
        if (ready < 0 && errno == EINTR) continue;
        if (fds[4].revents & (POLLHUP | POLLERR)) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            _exit(0);
        }
        for (int index = 0; index < 3; index++)
            if (streams[index].fd >= 0 && fds[index].revents) drain(&streams[index]);
        if (streams[0].length > config.max_result_bytes && killed_for < 0) {
            killed_for = AZR_END_RESULT_TOO_BIG;
            kill(pid, SIGKILL);
        }
        if (fds[3].revents) exited = 1;
        if (!exited && now_ns() >= deadline && killed_for < 0) {
            killed_for = AZR_END_TIMEOUT;
            kill(pid, SIGKILL);
        }
        /* A dead child holds no write end, so once it has exited a closed pipe is only a matter of draining.
         * The 1 s poll above bounds that in case something else (it cannot) kept a pipe open. */
        if (exited && ready == 0)
            for (int index = 0; index < 3; index++)
                if (streams[index].fd >= 0) {
                    close(streams[index].fd);
                    streams[index].fd = -1;
                }
    }
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
        if (killed_for == AZR_END_RESULT_TOO_BIG) streams[0].length = 0;
    } else if (WIFSIGNALED(status)) {
        reply.end = AZR_END_SIGNALED;
        reply.code = WTERMSIG(status);
    } else {
        reply.end = AZR_END_EXITED;
        reply.code = WEXITSTATUS(status);
    }

cleanup:
    for (int index = 0; index < 3; index++) {
        if (streams[index].fd >= 0) close(streams[index].fd);
        if (write_ends[index] >= 0) close(write_ends[index]);
    }
    if (stdin_fd >= 0) close(stdin_fd);
    free(directory);
    reply.wall_ns = now_ns() - started;
    reply.result_len = (uint32_t)streams[0].length;
    reply.stdout_len = (uint32_t)streams[1].length;
    reply.stderr_len = (uint32_t)streams[2].length;
    reply.output_flags = (streams[1].overflowed ? AZR_OUTPUT_STDOUT_TRUNCATED : 0) |
                         (streams[2].overflowed ? AZR_OUTPUT_STDERR_TRUNCATED : 0);
    if (write_exact(CONTROL_FD, &reply, sizeof reply) != 0 ||
        (reply.result_len && write_exact(CONTROL_FD, result_buffer, reply.result_len) != 0) ||
        (reply.stdout_len && write_exact(CONTROL_FD, stdout_buffer, reply.stdout_len) != 0) ||
        (reply.stderr_len && write_exact(CONTROL_FD, stderr_buffer, reply.stderr_len) != 0))
        _exit(0);
}

/* Memory the zygote reads children's output into: mapped once, untouched pages cost nothing, and fork leaves it
 * out of every child. */
static char *kept_out_of_children(size_t size) {
    char *mapping = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mapping == MAP_FAILED) return NULL;
    if (madvise(mapping, size, MADV_DONTFORK) != 0) return NULL;
    return mapping;
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
    result_buffer = kept_out_of_children((size_t)config.max_result_bytes + 1);
    stdout_buffer = kept_out_of_children((size_t)config.max_output_bytes + 1);
    stderr_buffer = kept_out_of_children((size_t)config.max_output_bytes + 1);
    if (result_buffer == NULL || stdout_buffer == NULL || stderr_buffer == NULL) {
        send_ready(1, "cannot allocate the result buffers");
        return 2;
    }
    landlock_abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);

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
        size_t length = (size_t)job.payload_len + job.stdin_len + job.directory_len;
        char *payload = malloc(length + 1);
        if (payload == NULL || read_exact(CONTROL_FD, payload, length) != 0) return 0;
        run_job(&job, payload);
        free(payload);
    }
}
