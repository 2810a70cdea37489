import CSeccomp
import Foundation

/// Turns a policy's syscall rules into a classic BPF program, once per pool. The zygote installs the bytes
/// as they are in every child, so no child pays for libseccomp's compilation.
enum SeccompCompiler {
    static func compile(_ policy: SandboxPolicy, file: String) throws -> [UInt8] {
        let defaultAction: UInt32 = policy.defaultAction == .kill ? 0x8000_0000 /* KILL_PROCESS */ : 0x0003_0000 /* TRAP */
        guard let context = seccomp_init(defaultAction) else { throw SandboxError.seccompFailed("seccomp_init failed") }
        defer { seccomp_release(context) }

        for (index, rule) in policy.allow.enumerated() {
            let number = try resolve(rule.syscall, field: "seccomp.allow[\(index)].syscall", file: file)
            let conditions = rule.conditions.map(argumentComparison)
            let status = conditions.withUnsafeBufferPointer {
                seccomp_rule_add_array(context, 0x7fff_0000 /* ALLOW */, number, UInt32($0.count), $0.baseAddress)
            }
            guard status == 0 else {
                throw SandboxError.invalidPolicy(file: file, field: "seccomp.allow[\(index)]",
                                                 reason: "libseccomp rejected the rule (\(String(cString: strerror(-status))))")
            }
        }
        for (errnoName, calls) in policy.errno.sorted(by: { $0.key < $1.key }) {
            let action = 0x0005_0000 | UInt32(Errno.byName[errnoName]!) // SCMP_ACT_ERRNO(x)
            for (index, call) in calls.enumerated() {
                let number = try resolve(call, field: "seccomp.errno.\(errnoName)[\(index)]", file: file)
                let status = seccomp_rule_add_array(context, action, number, 0, nil)
                guard status == 0 else {
                    throw SandboxError.invalidPolicy(file: file, field: "seccomp.errno.\(errnoName)[\(index)]",
                                                     reason: "libseccomp rejected the rule (\(String(cString: strerror(-status))))")
                }
            }
        }
        return try export(context)
    }

    private static func resolve(_ name: String, field: String, file: String) throws -> Int32 {
        let number = seccomp_syscall_resolve_name(name)
        guard number >= 0 else {
            throw SandboxError.invalidPolicy(file: file, field: field, reason: "unknown syscall \"\(name)\"")
        }
        return number
    }

    private static func argumentComparison(_ condition: SandboxPolicy.ArgumentCondition) -> scmp_arg_cmp {
        let operation: scmp_compare
        switch condition.operation {
        case .eq: operation = SCMP_CMP_EQ
        case .ne: operation = SCMP_CMP_NE
        case .lt: operation = SCMP_CMP_LT
        case .le: operation = SCMP_CMP_LE
        case .gt: operation = SCMP_CMP_GT
        case .ge: operation = SCMP_CMP_GE
        case .maskedEq: operation = SCMP_CMP_MASKED_EQ
        }
        if condition.operation == .maskedEq {
            return scmp_arg_cmp(arg: UInt32(condition.index), op: operation, datum_a: condition.mask, datum_b: condition.value)
        }
        return scmp_arg_cmp(arg: UInt32(condition.index), op: operation, datum_a: condition.value, datum_b: 0)
    }

    /// libseccomp 2.5 exports only to an fd; a pipe is enough, as a short filter is a few hundred bytes.
    private static func export(_ context: scmp_filter_ctx) throws -> [UInt8] {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw SandboxError.seccompFailed("pipe: \(String(cString: strerror(errno)))") }
        defer { close(fds[0]) }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        let status = seccomp_export_bpf(context, fds[1])
        close(fds[1])
        guard status == 0 else { throw SandboxError.seccompFailed("export failed (\(String(cString: strerror(-status))))") }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let got = chunk.withUnsafeMutableBytes { read(fds[0], $0.baseAddress, 4096) }
            if got <= 0 { break }
            bytes.append(contentsOf: chunk[0..<got])
        }
        guard !bytes.isEmpty, bytes.count % 8 == 0 else { throw SandboxError.seccompFailed("empty program") }
        return bytes
    }
}
