import Foundation
import Trainer

/// Makes the commands that run the model use the best OpenBLAS kernel this CPU supports, and never a kernel that
/// computes wrong results.
///
/// OpenBLAS chooses its kernel when the library is loaded, before `main`, so a better choice takes effect only
/// in a new process image: `azr` sets `OPENBLAS_CORETYPE` and executes itself again (same pid, same arguments).
/// The new image checks the kernel numerically (`BLASKernel.verify`) and, if it is wrong, steps down the ladder
/// and says so. `AZR_BLAS_CORETYPE=NAME` pins a kernel (still checked).
enum KernelSelection {
    /// Subcommands that run the model; the others (sandbox, buffer, report) never call BLAS.
    static let modelCommands: Set<String> = ["train", "eval", "experiment", "generate", "bench"]
    static let pinVariable = "AZR_BLAS_CORETYPE"

    static func apply(arguments: [String] = CommandLine.arguments) {
        guard arguments.count > 1, modelCommands.contains(arguments[1]) else { return }
        let environment = ProcessInfo.processInfo.environment
        let current = BLASKernel.current
        if environment[BLASKernel.selectionNoteVariable] != nil {
            // This image was chosen by an earlier one: check it.
            return verifyOrStepDown(current)
        }
        if let pinned = environment[pinVariable], !pinned.isEmpty {
            if pinned.lowercased() != current.lowercased() {
                reexecute(kernel: pinned, note: "pinned by \(pinVariable)")
            }
            setenv(BLASKernel.selectionNoteVariable, "pinned by \(pinVariable)", 1)
            return verifyOrStepDown(current)
        }
        let inherited = environment["OPENBLAS_CORETYPE"].map { " from OPENBLAS_CORETYPE=\($0)" } ?? ""
        guard let best = BLASKernel.best(flags: BLASKernel.cpuFlags()), let bestRank = BLASKernel.rank(best),
              (BLASKernel.rank(current) ?? -1) < bestRank else {
            setenv(BLASKernel.selectionNoteVariable, "OpenBLAS's own choice\(inherited), the best for this CPU", 1)
            return verifyOrStepDown(current)
        }
        reexecute(kernel: best, note: "best for this CPU; the library had chosen \(current)\(inherited)")
    }

    /// Keeps a kernel that computes correctly; otherwise re-executes with the next weaker one, saying why.
    private static func verifyOrStepDown(_ kernel: String) {
        guard let problem = BLASKernel.verify() else { return }
        let weaker = (BLASKernel.rank(kernel) ?? 0) - 1
        guard weaker >= 0 else {
            printError("OpenBLAS computes wrong results on this CPU with its \(kernel) kernel (\(problem)); no weaker kernel is left")
            exit(1)
        }
        let fallback = BLASKernel.ladder[weaker].name
        printError("OpenBLAS's \(kernel) kernel failed its numerical check (\(problem)); falling back to \(fallback)")
        reexecute(kernel: fallback, note: "fallback: \(kernel) failed its numerical check")
    }

    private static func reexecute(kernel: String, note: String) {
        setenv("OPENBLAS_CORETYPE", kernel, 1)
        setenv(BLASKernel.selectionNoteVariable, note, 1)
        let arguments = CommandLine.arguments.map { strdup($0) } + [nil]
        execv("/proc/self/exe", arguments)
        // Only reached when exec failed: go on with the kernel we have, and say so.
        printError("could not re-execute with the \(kernel) kernel (\(String(cString: strerror(errno)))); continuing with \(BLASKernel.current)")
        setenv(BLASKernel.selectionNoteVariable, "\(kernel) wanted, re-execution failed", 1)
    }
}
