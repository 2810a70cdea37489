import Foundation

/// A sandbox policy: what a confined child may do and how long and large it may get. Policies are data
/// (sandbox-policies/*.json); this is their parsed, validated form.
public struct SandboxPolicy: Equatable, Sendable {
    /// What the kernel does with a syscall the filter does not name.
    public enum DefaultAction: String, Sendable { case kill, trap }

    /// One argument condition of a seccomp rule; `value` and `mask` may be symbolic in the file
    /// (`result_fd`, `PROT_EXEC`) and are resolved when the policy is loaded.
    public struct ArgumentCondition: Equatable, Sendable {
        public enum Operation: String, Sendable { case eq, ne, lt, le, gt, ge, maskedEq = "masked_eq" }
        public var index: Int
        public var operation: Operation
        public var value: UInt64
        public var mask: UInt64
    }

    public struct SyscallRule: Equatable, Sendable {
        public var syscall: String
        public var conditions: [ArgumentCondition]
    }

    public var name: String
    public var description: String
    public var defaultAction: DefaultAction
    public var allow: [SyscallRule]
    /// Syscalls that fail with an errno instead of killing: errno name → syscall names.
    public var errno: [String: [String]]
    public var cpuSeconds: Int
    public var addressSpaceBytes: Int
    public var wallTimeoutMilliseconds: Int
    /// Captured stdout and stderr are each cut to this many characters (and marked truncated).
    public var outputCharacters: Int
    /// A child's whole result frame may not exceed this; beyond it the child is killed.
    public var resultBytes: Int
    /// Scripts (``ScriptJob``): stdout and stderr are each kept up to this many bytes; the rest is read and
    /// dropped, and the result says so. Optional in the file (`output_bytes`); 1 MiB.
    public var outputBytes: Int
    /// Scripts with a working directory: the largest file they may write (RLIMIT_FSIZE). Optional in the file
    /// (`file_bytes`); 16 MiB.
    public var fileBytes: Int
    /// A single returned value's repr may not exceed this many characters.
    public var valueCharacters: Int
    public var maxValueDepth: Int
    public var maxValueNodes: Int
    /// Python's limit on digits when an int becomes text (0: none). Optional in the file; 4300 as in Python.
    public var intMaxStrDigits: Int
    /// Modules imported once in the zygote, so untrusted code can use them without touching the filesystem.
    public var preimport: [String]
    /// Top-level module names an untrusted program may not import.
    public var bannedImports: [String]
    /// Folders appended to the sandboxed interpreter's sys.path (packages beyond the standard library, such as
    /// Debian's dist-packages), and readable like `filesystem.read`. Optional in the file (`python.path`).
    public var pythonPath: [String]
    /// Paths a child may read beneath (files and directory listings), enforced by the kernel with Landlock;
    /// `python_stdlib` stands for the interpreter's own sys.path. Empty: no Landlock, and the seccomp filter
    /// alone keeps programs off the filesystem. Nothing is ever writable.
    public var readablePaths: [String]
    /// Benchmarks only: report subclasses of builtin types as their base types (`Counter` as `dict`) and any
    /// other object as an opaque repr compared as text. AZR's tasks keep the strict rule (literals only).
    public var lenientValues: Bool

    /// The fd on which a child writes its result; the only fd the default policies let it write to.
    public static let resultFD: UInt64 = 3
    static let symbols: [String: UInt64] = [
        "result_fd": resultFD, "PROT_READ": 1, "PROT_WRITE": 2, "PROT_EXEC": 4, "MAP_ANONYMOUS": 0x20,
    ]
}

extension SandboxPolicy {
    /// Parses a policy from JSON. `file` names it in errors.
    public init(json data: Data, file: String) throws {
        let root: Any
        do { root = try JSONSerialization.jsonObject(with: data) } catch {
            throw SandboxError.invalidPolicy(file: file, field: "(file)", reason: "not valid JSON")
        }
        let reader = PolicyReader(file: file)
        let top = try reader.object(root, "(top level)")
        name = try reader.string(top, "name")
        description = try reader.optionalString(top, "description") ?? ""

        let seccomp = try reader.object(top["seccomp"] as Any, "seccomp")
        let action = try reader.string(seccomp, "default_action", path: "seccomp")
        guard let parsed = DefaultAction(rawValue: action) else {
            throw reader.error("seccomp.default_action", "must be \"kill\" or \"trap\", not \"\(action)\"")
        }
        defaultAction = parsed
        let rules = try reader.array(seccomp["allow"] as Any, "seccomp.allow")
        allow = try rules.enumerated().map { index, entry in
            try reader.rule(entry, path: "seccomp.allow[\(index)]")
        }
        var errnoTable: [String: [String]] = [:]
        if let table = seccomp["errno"] {
            let entries = try reader.object(table, "seccomp.errno")
            for (errnoName, calls) in entries {
                guard Errno.byName[errnoName] != nil else {
                    throw reader.error("seccomp.errno.\(errnoName)", "unknown errno name")
                }
                errnoTable[errnoName] = try reader.array(calls, "seccomp.errno.\(errnoName)").enumerated().map {
                    guard let call = $1 as? String else {
                        throw reader.error("seccomp.errno.\(errnoName)[\($0)]", "expected a syscall name")
                    }
                    return call
                }
            }
        }
        errno = errnoTable

        let limits = try reader.object(top["limits"] as Any, "limits")
        cpuSeconds = try reader.positive(limits, "cpu_seconds", path: "limits")
        addressSpaceBytes = try reader.positive(limits, "address_space_mb", path: "limits") * 1_048_576
        wallTimeoutMilliseconds = try reader.positive(limits, "wall_timeout_ms", path: "limits")
        outputCharacters = try reader.positive(limits, "output_chars", path: "limits")
        resultBytes = try reader.positive(limits, "result_bytes", path: "limits")
        outputBytes = limits["output_bytes"] == nil ? 1 << 20 : try reader.positive(limits, "output_bytes", path: "limits")
        fileBytes = limits["file_bytes"] == nil ? 16 << 20 : try reader.positive(limits, "file_bytes", path: "limits")
        valueCharacters = try reader.positive(limits, "value_chars", path: "limits")
        maxValueDepth = try reader.positive(limits, "max_value_depth", path: "limits")
        maxValueNodes = try reader.positive(limits, "max_value_nodes", path: "limits")
        if let digits = limits["int_max_str_digits"] {
            guard let number = digits as? Int, number == 0 || number >= 640 else {
                throw reader.error("limits.int_max_str_digits", "expected 0 (no limit) or an integer of at least 640")
            }
            intMaxStrDigits = number
        } else {
            intMaxStrDigits = 4300
        }
        guard resultBytes > valueCharacters else {
            throw reader.error("limits.result_bytes", "must exceed limits.value_chars")
        }

        let python = try reader.object(top["python"] as Any, "python")
        preimport = try reader.strings(python, "preimport", path: "python")
        bannedImports = try reader.strings(python, "banned_imports", path: "python")
        if let lenient = python["lenient_values"] {
            guard let flag = lenient as? NSNumber, String(cString: flag.objCType) == "c" else {
                throw reader.error("python.lenient_values", "expected true or false")
            }
            lenientValues = flag.boolValue
        } else {
            lenientValues = false
        }
        pythonPath = python["path"] == nil ? [] : try reader.strings(python, "path", path: "python")
        for (index, path) in pythonPath.enumerated()
        where !path.hasPrefix("/") || path.contains("\n") || path.contains("\0") || path.contains("'") || path.contains("\\") {
            throw reader.error("python.path[\(index)]", "expected an absolute path without quotes or backslashes, not \"\(path)\"")
        }
        for (index, module) in preimport.enumerated() where !Self.isModuleName(module) {
            throw reader.error("python.preimport[\(index)]", "\"\(module)\" is not a module name")
        }

        if let filesystem = top["filesystem"] {
            let section = try reader.object(filesystem, "filesystem")
            for key in section.keys where key != "read" {
                throw reader.error("filesystem.\(key)", "unknown key (the filesystem section has only \"read\")")
            }
            readablePaths = try reader.strings(section, "read", path: "filesystem")
            for (index, path) in readablePaths.enumerated()
            where path != Self.pythonStdlib && (!path.hasPrefix("/") || path.contains("\n") || path.contains("\0")) {
                throw reader.error("filesystem.read[\(index)]", "expected an absolute path or \"\(Self.pythonStdlib)\", not \"\(path)\"")
            }
        } else {
            readablePaths = []
        }
    }

    /// In `filesystem.read`: every directory on the sandboxed interpreter's sys.path (its standard library).
    public static let pythonStdlib = "python_stdlib"

    static func isModuleName(_ text: String) -> Bool {
        !text.isEmpty && text.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { part in
            guard let first = part.first, first == "_" || first.isLetter else { return false }
            return part.allSatisfy { $0 == "_" || $0.isLetter || $0.isNumber }
        }
    }
}

/// Field-by-field JSON reading that names the failing field.
private struct PolicyReader {
    let file: String

    func error(_ field: String, _ reason: String) -> SandboxError {
        .invalidPolicy(file: file, field: field, reason: reason)
    }

    func object(_ value: Any, _ field: String) throws -> [String: Any] {
        guard let object = value as? [String: Any] else { throw error(field, "expected an object") }
        return object
    }

    func array(_ value: Any, _ field: String) throws -> [Any] {
        guard let array = value as? [Any] else { throw error(field, "expected an array") }
        return array
    }

    private func join(_ path: String?, _ key: String) -> String { path.map { "\($0).\(key)" } ?? key }

    func string(_ object: [String: Any], _ key: String, path: String? = nil) throws -> String {
        guard let value = object[key] else { throw error(join(path, key), "missing") }
        guard let text = value as? String else { throw error(join(path, key), "expected a string") }
        return text
    }

    func optionalString(_ object: [String: Any], _ key: String) throws -> String? {
        guard let value = object[key] else { return nil }
        guard let text = value as? String else { throw error(key, "expected a string") }
        return text
    }

    func positive(_ object: [String: Any], _ key: String, path: String) throws -> Int {
        let field = join(path, key)
        guard let value = object[key] else { throw error(field, "missing") }
        guard let number = value as? NSNumber, !isBoolean(number),
              let integer = Int(exactly: number.doubleValue), integer > 0
        else { throw error(field, "expected a positive integer") }
        return integer
    }

    func strings(_ object: [String: Any], _ key: String, path: String) throws -> [String] {
        let field = join(path, key)
        guard let value = object[key] else { throw error(field, "missing") }
        return try array(value, field).enumerated().map {
            guard let text = $1 as? String else { throw error("\(field)[\($0)]", "expected a string") }
            return text
        }
    }

    /// JSON booleans arrive as NSNumber too; their objCType is `c`, which JSON numbers never have.
    private func isBoolean(_ number: NSNumber) -> Bool {
        String(cString: number.objCType) == "c"
    }

    func number(_ value: Any, _ field: String) throws -> UInt64 {
        if let symbol = value as? String {
            guard let resolved = SandboxPolicy.symbols[symbol] else {
                throw error(field, "unknown constant \"\(symbol)\" (known: \(SandboxPolicy.symbols.keys.sorted().joined(separator: ", ")))")
            }
            return resolved
        }
        guard let number = value as? NSNumber, !isBoolean(number),
              let integer = UInt64(exactly: number.doubleValue)
        else { throw error(field, "expected a non-negative integer or a constant name") }
        return integer
    }

    func rule(_ value: Any, path: String) throws -> SandboxPolicy.SyscallRule {
        let entry = try object(value, path)
        let syscall = try string(entry, "syscall", path: path)
        let args = try entry["args"].map { try array($0, "\(path).args") } ?? []
        let conditions = try args.enumerated().map { index, raw -> SandboxPolicy.ArgumentCondition in
            let field = "\(path).args[\(index)]"
            let condition = try object(raw, field)
            let argIndex = try number(condition["index"] as Any, "\(field).index")
            guard argIndex < 6 else { throw error("\(field).index", "a syscall has arguments 0 to 5") }
            let opName = try string(condition, "op", path: field)
            guard let operation = SandboxPolicy.ArgumentCondition.Operation(rawValue: opName) else {
                throw error("\(field).op", "unknown operation \"\(opName)\" (eq, ne, lt, le, gt, ge, masked_eq)")
            }
            let compared = try number(condition["value"] as Any, "\(field).value")
            var mask: UInt64 = 0
            if operation == .maskedEq {
                mask = try number(condition["mask"] as Any, "\(field).mask")
            } else if condition["mask"] != nil {
                throw error("\(field).mask", "only masked_eq takes a mask")
            }
            return .init(index: Int(argIndex), operation: operation, value: compared, mask: mask)
        }
        return .init(syscall: syscall, conditions: conditions)
    }
}

/// The errno names a policy may use.
enum Errno {
    static let byName: [String: Int32] = [
        "EACCES": EACCES, "EPERM": EPERM, "ENOENT": ENOENT, "EBADF": EBADF, "ENOSYS": ENOSYS,
        "EINVAL": EINVAL, "ENOMEM": ENOMEM, "ENOTTY": ENOTTY,
    ]
}
