import Dispatch

extension DispatchTime {
    /// Wall seconds from this instant until now (monotonic).
    var secondsElapsed: Double { Double(DispatchTime.now().uptimeNanoseconds - uptimeNanoseconds) / 1e9 }
}
