import Tasks

/// A problem's identity across measurements, buffers and recorded target sets: task type and id, as
/// `deduction/4211c47f01d33a00`. SGS's and SOAR's targets.json, the experiment's verdict files and its rows all
/// name problems this way.
extension Triple {
    public var problemKey: String { "\(type)/\(id)" }
}

extension SolverEvaluation.TaskResult {
    public var problemKey: String { "\(type)/\(id)" }
}
