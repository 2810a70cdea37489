import ArgumentParser
import Foundation
import Sandbox

@main
struct AZR: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "azr",
        abstract: "AZR Gym: zero-data self-play training of code reasoners.",
        subcommands: [TrainCommand.self, EvalCommand.self, ReportCommand.self, ExperimentCommand.self, GenerateCommand.self, BufferCommand.self,
                      SandboxCommand.self, BenchCommand.self, ModelCommand.self])

    /// Every error leaves as one line: usage problems and parse errors with status 2, the rest with 1.
    static func main() {
        KernelSelection.apply()
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
            Foundation.exit(2)
        }
    }
}
