import ArgumentParser
import ExampleTasks
import Foundation
import Gym
import Sandbox

@main
struct AZR: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "azr",
        abstract: "AZR Gym: zero-data self-play training of code reasoners.",
        discussion: "Exit status: 0 on success, 1 when a command fails while running, 2 for usage errors (bad options, missing or unreadable inputs).",
        subcommands: [TrainCommand.self, EvalCommand.self, ReportCommand.self, ExperimentCommand.self, GenerateCommand.self, BufferCommand.self,
                      SandboxCommand.self, BenchCommand.self, ModelCommand.self, ServeCommand.self])

    /// Every error leaves as one line: usage problems (`CLIError.usage`, ArgumentParser's parse and validation
    /// errors) with status 2, failures while running with 1.
    static func main() {
        KernelSelection.apply()
        // The example plug-in task type (examples/custom-task), trainable by naming it in `task_types`.
        TaskTypeCatalog.register("exception") { _ in ExceptionTask() }
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let CLIError.usage(message) {
            printError(message)
            Foundation.exit(2)
        } catch let error as SandboxError {
            printError(error.description)
            Foundation.exit(1)
        } catch let code as ExitCode {
            Foundation.exit(code.rawValue)
        } catch {
            let code = exitCode(for: error)
            if code == .success || code.rawValue == 0 {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            printError(fullMessage(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)")
            // ArgumentParser maps its own parse and validation errors to EX_USAGE; anything else failed at run time.
            Foundation.exit(code == .validationFailure ? 2 : 1)
        }
    }
}
