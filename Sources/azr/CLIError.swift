import ArgumentParser
import Foundation

/// A usage problem: printed as one line on stderr, exit status 2 (ArgumentParser's own parse errors also
/// exit 2 through `AZR.main`).
enum CLIError: Error {
    case usage(String)
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data("azr: \(message)\n".utf8))
}
