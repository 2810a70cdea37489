import Dispatch

/// Times one game step: wall seconds per phase (`lap` closes the phase that just ran) and the seconds spent
/// waiting on the sandbox, from which runs per second are computed.
struct StepClock {
    private(set) var seconds: [String: Double] = [:]
    private(set) var sandboxSeconds = 0.0
    private var phaseStart = DispatchTime.now()

    /// Adds the time since the last lap (or the start) to `phase` (a phase run several times in a step sums).
    mutating func lap(_ phase: String) {
        seconds[phase, default: 0] += phaseStart.secondsElapsed
        phaseStart = DispatchTime.now()
    }

    /// Runs `body`, a wait on the sandbox, and adds its wall time to `sandboxSeconds`.
    mutating func inSandbox<T>(_ body: () -> T) -> T {
        let started = DispatchTime.now()
        defer { sandboxSeconds += started.secondsElapsed }
        return body()
    }
}
