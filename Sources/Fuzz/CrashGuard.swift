import Foundation

/// What a fuzzed parser must never do, caught in-process: a trap or a fault (a signal handler saves the input
/// that caused it), a hang (a watchdog thread), and unbounded allocation (an address-space limit turns it into
/// an allocation failure, which traps). The input under test lives in a fixed buffer so the handler can write
/// it with async-signal-safe calls only.
enum CrashGuard {
    static let capacity = 1 << 20
    nonisolated(unsafe) static var input = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
    nonisolated(unsafe) static var inputLength = 0
    /// Where the handler writes the input: a C string, allocated before any signal can arrive.
    nonisolated(unsafe) static var crashPath: UnsafeMutablePointer<CChar>?
    nonisolated(unsafe) static var message: UnsafeMutablePointer<CChar>?
    /// Incremented per input; the watchdog sees a hang when it stops moving.
    nonisolated(unsafe) static var counter = UInt64(0)

    /// Exit codes: a crash or an over-limit allocation, a hang.
    static let crashStatus: Int32 = 3, hangStatus: Int32 = 4

    static func install(target: String, outputFolder: String, addressSpaceBytes: UInt64) {
        let path = (outputFolder as NSString).appendingPathComponent("fuzz-crash-\(target).bin")
        crashPath = strdup(path)
        message = strdup("azr-fuzz: \(target) crashed (a trap, a fault, or an allocation past the \(addressSpaceBytes >> 20) MiB limit); the input is in \(path)\n")
        for signalNumber in [SIGILL, SIGTRAP, SIGSEGV, SIGBUS, SIGABRT, SIGFPE] {
            signal(signalNumber) { _ in
                CrashGuard.saveInput()
                if let message = CrashGuard.message { write(2, message, strlen(message)) }
                _exit(CrashGuard.crashStatus)
            }
        }
        var limit = rlimit(rlim_cur: rlim_t(addressSpaceBytes), rlim_max: rlim_t(addressSpaceBytes))
        var current = rlimit()
        if getrlimit(Int32(RLIMIT_AS.rawValue), &current) == 0, current.rlim_max != rlim_t.max, current.rlim_max < rlim_t(addressSpaceBytes) {
            limit = rlimit(rlim_cur: current.rlim_max, rlim_max: current.rlim_max)
        }
        setrlimit(Int32(RLIMIT_AS.rawValue), &limit)
    }

    /// Called with signals possibly pending: open, write and close only.
    static func saveInput() {
        guard let crashPath else { return }
        let fd = open(crashPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { return }
        _ = write(fd, input, inputLength)
        close(fd)
    }

    static func record(_ bytes: [UInt8]) {
        let count = min(bytes.count, capacity)
        bytes.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { input.update(from: base, count: count) }
        }
        inputLength = count
        counter &+= 1
    }

    /// A thread that stops the process when one input has run for `seconds`.
    static func startWatchdog(target: String, outputFolder: String, seconds: Double) {
        let path = (outputFolder as NSString).appendingPathComponent("fuzz-hang-\(target).bin")
        let thread = Thread {
            var last = counter
            var still = 0.0
            while true {
                Thread.sleep(forTimeInterval: 0.1)
                let now = counter
                if now == last { still += 0.1 } else { still = 0; last = now }
                if still >= seconds {
                    let data = Data(bytes: input, count: inputLength)
                    try? data.write(to: URL(fileURLWithPath: path))
                    FileHandle.standardError.write(Data("azr-fuzz: \(target) hung (one input ran past \(seconds) s); the input is in \(path)\n".utf8))
                    _exit(hangStatus)
                }
            }
        }
        thread.start()
    }
}
