/* The wire format between the Swift pool and a zygote, over one AF_UNIX stream socket (the zygote's fd 0).
 * All integers are little-endian, as both ends run on the same machine. Sandbox/ZygoteWire.swift mirrors it. */
#ifndef AZR_ZYGOTE_WIRE_H
#define AZR_ZYGOTE_WIRE_H
#include <stdint.h>

#define AZR_MAGIC_CONFIG 0x43525a41u /* "AZRC" pool -> zygote, once */
#define AZR_MAGIC_READY  0x52525a41u /* "AZRR" zygote -> pool, once */
#define AZR_MAGIC_JOB    0x4a525a41u /* "AZRJ" pool -> zygote, per job */
#define AZR_MAGIC_RESULT 0x4f525a41u /* "AZRO" zygote -> pool, per job */

/* Config: header, then prelude (Python source run once in the zygote; it must define _azr_run(bytes) -> bytes),
 * then the seccomp program (bpf_len bytes of struct sock_filter), then readable_len bytes of paths a child may
 * read, one per line ("python_stdlib" for the interpreter's own sys.path); none means no Landlock ruleset. */
/* Config is 56 bytes, a job header 48, a result header 64. */
struct azr_config_header {
    uint32_t magic;
    uint32_t prelude_len;
    uint32_t bpf_len;
    uint32_t readable_len;
    uint64_t cpu_seconds;        /* RLIMIT_CPU (soft; hard = soft + 1) */
    uint64_t address_space;      /* RLIMIT_AS in bytes, 0 = leave as is */
    uint64_t max_result_bytes;   /* the child's result frame may not exceed this */
    uint64_t max_output_bytes;   /* script jobs: stdout and stderr are each kept up to this, the rest drained */
    uint64_t max_file_bytes;     /* script jobs with a directory: RLIMIT_FSIZE, the largest file a run writes */
};

/* Ready: status 0 and an empty message, or status 1 and the reason the prelude failed. */
struct azr_ready_header {
    uint32_t magic;
    uint32_t status;
    uint32_t message_len;
    uint32_t pid;
};

/* Job flags. A call job (none set) runs _azr_run(payload) and relays the bytes it returns. A script job runs
 * _azr_script(payload) as a whole program: stdin_len bytes after the payload are its fd 0, its fds 1 and 2 are
 * pipes the zygote drains into the result, and directory_len bytes after those name a directory it works in
 * and may write beneath (Landlock), or none. */
#define AZR_JOB_SCRIPT 1u

struct azr_job_header {
    uint32_t magic;
    uint32_t payload_len;
    uint64_t job_id;
    uint64_t timeout_ms;         /* wall clock; the zygote SIGKILLs the child after it */
    uint32_t flags;
    uint32_t stdin_len;
    uint32_t directory_len;
    uint32_t cpu_seconds;        /* RLIMIT_CPU for this job; 0 = the config's */
    uint64_t memory_bytes;       /* script jobs: RLIMIT_AS = the child's own size at fork + this; 0 = config's */
};

enum azr_end {
    AZR_END_EXITED = 0,          /* code = exit status */
    AZR_END_SIGNALED = 1,        /* code = signal number */
    AZR_END_TIMEOUT = 2,         /* wall deadline passed, child killed */
    AZR_END_RESULT_TOO_BIG = 3,  /* child wrote more than max_result_bytes, child killed */
    AZR_END_FORK_FAILED = 4,     /* code = errno */
};

struct azr_result_header {
    uint32_t magic;
    uint32_t result_len;         /* bytes the child wrote to its result pipe, which follow this header */
    uint64_t job_id;
    int32_t end;                 /* enum azr_end */
    int32_t code;
    uint64_t wall_ns;
    uint64_t cpu_ns;
    uint64_t max_rss_kb;
    uint32_t stdout_len;         /* script jobs: the kept stdout bytes, after the result bytes */
    uint32_t stderr_len;         /* then the kept stderr bytes */
    uint32_t output_flags;       /* AZR_OUTPUT_* */
    uint32_t reserved;
};

#define AZR_OUTPUT_STDOUT_TRUNCATED 1u
#define AZR_OUTPUT_STDERR_TRUNCATED 2u

#endif
