import Foundation
import Sandbox

/// Presets are data, one JSON file per game and name: `presets/GAME/NAME.json` holding
/// `{"description": "…", "settings": {…}}`, where settings are config keys over the code's defaults. The
/// folder is looked for in `$AZR_PRESET_DIR`, `./presets`, and beside or above the executable.
public enum PresetLibrary {
    /// A preset file: what it is for, and its settings as a JSON object.
    public struct Preset {
        public var name: String
        public var description: String
        public var settings: Data
    }

    static var folders: [URL] { ExecutableLocation.dataFolders(named: "presets", override: "AZR_PRESET_DIR") }

    /// The first presets folder that has a folder for `game`.
    static func folder(game: String) -> URL? {
        folders.map { $0.appendingPathComponent(game) }.first { url in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue
        }
    }

    /// The preset names of `game`, sorted.
    public static func names(game: String) -> [String] {
        guard let folder = folder(game: game),
              let files = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return [] }
        return files.filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
    }

    /// Reads presets/GAME/NAME.json; a missing preset, unreadable JSON or a key other than `description` and
    /// `settings` is an error naming the file.
    public static func load(_ name: String, game: String) throws -> Preset {
        guard let folder = folder(game: game), !name.contains("/"),
              FileManager.default.fileExists(atPath: folder.appendingPathComponent("\(name).json").path) else {
            throw TrainingConfig.ConfigError.unknownPreset(name, game: game, known: names(game: game))
        }
        let url = folder.appendingPathComponent("\(name).json")
        let object: [String: Any]
        do {
            guard let read = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] else {
                throw TrainingConfig.ConfigError.unreadable(url.path, "not a JSON object")
            }
            object = read
        } catch let error as TrainingConfig.ConfigError {
            throw error
        } catch {
            throw TrainingConfig.ConfigError.unreadable(url.path, "not JSON: \(error.localizedDescription)")
        }
        if let unknown = object.keys.sorted().first(where: { !["description", "settings"].contains($0) }) {
            throw TrainingConfig.ConfigError.unreadable(url.path, NearestName.unknown("key", unknown, known: ["description", "settings"]))
        }
        guard let settings = object["settings"] as? [String: Any] else {
            throw TrainingConfig.ConfigError.unreadable(url.path, "\"settings\" must be a JSON object")
        }
        if settings["game"] != nil || settings["preset"] != nil {
            throw TrainingConfig.ConfigError.unreadable(url.path, "a preset's settings name neither \"game\" nor \"preset\" (its folder and name do)")
        }
        return Preset(name: name, description: object["description"] as? String ?? "",
                      settings: try JSONSerialization.data(withJSONObject: settings))
    }
}
