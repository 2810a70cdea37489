import Foundation

/// A fixed set of threads that run blocking work (sandbox runs) off the event loops, behind a bounded queue:
/// ``submit(_:)`` refuses at once when the queue is full, which the service turns into 504.
final class WorkQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var pending: [() -> Void] = []
    private var head = 0
    private let capacity: Int
    private var stopped = false
    private var running = 0

    init(workers: Int, capacity: Int) {
        self.capacity = capacity
        for index in 0..<workers {
            // Each thread holds the queue until it leaves work() after stop().
            let thread = Thread { self.work() }
            thread.name = "azr-serve-worker-\(index)"
            thread.start()
        }
    }

    /// Queues `work`; false when `capacity` items already wait (or the queue stopped).
    func submit(_ work: @escaping () -> Void) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !stopped, pending.count - head < capacity else { return false }
        pending.append(work)
        condition.signal()
        return true
    }

    /// Items waiting and items running, for the service's status line.
    var load: (waiting: Int, running: Int) {
        condition.lock()
        defer { condition.unlock() }
        return (pending.count - head, running)
    }

    /// Lets the workers finish what they hold and end; what still waits is dropped.
    func stop() {
        condition.lock()
        stopped = true
        pending = []
        head = 0
        condition.broadcast()
        condition.unlock()
    }

    private func work() {
        while true {
            condition.lock()
            while !stopped && head == pending.count { condition.wait() }
            if stopped {
                condition.unlock()
                return
            }
            let item = pending[head]
            head += 1
            if head > 1024 && head * 2 > pending.count {
                pending.removeFirst(head)
                head = 0
            }
            running += 1
            condition.unlock()
            item()
            condition.lock()
            running -= 1
            condition.unlock()
        }
    }
}
