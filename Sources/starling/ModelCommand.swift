import ArgumentParser
import Foundation
import StarlingRuntime

/// `starling model list|export`: committed global models this peer holds (docs/workers.md).
struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "List and export the committed global models a peer holds.",
        subcommands: [List.self, Export.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Models held here, newest first, with round and metrics.")

        @Flag(help: "Print the peer's JSON answer.")
        var json = false
        @OptionGroup var peer: TaskCommand.PeerOption

        func run() throws {
            let (line, answer) = try JSONRequest.sendRaw(["command": "model-list"], peer: peer)
            if json {
                print(String(decoding: line, as: UTF8.self), terminator: "")
                return
            }
            let models = answer["models"] as? [[String: Any]] ?? []
            if models.isEmpty { print("no models held on this peer") }
            for model in models {
                let metrics = (model["metrics"] as? [String: Double] ?? [:]).sorted { $0.key < $1.key }
                    .map { "\($0.key) \(String(format: "%.4f", $0.value))" }.joined(separator: ", ")
                print("\((model["hash"] as? String ?? "").prefix(16))  \(model["taskName"] ?? "")  round \(model["round"] ?? 0)  "
                    + "\(model["parameters"] ?? 0) parameters  \(model["bytes"] ?? 0) bytes" + (metrics.isEmpty ? "" : "  \(metrics)"))
            }
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a model as a safetensors file: by task name (its latest round) or hash prefix.")

        @Argument(help: "A task name (the latest committed round held) or a model hash prefix (8+ hex).")
        var model: String
        @Option(help: "Where to write it (FILE.safetensors).")
        var out: String
        @OptionGroup var peer: TaskCommand.PeerOption

        func run() throws {
            let absolute = out.hasPrefix("/") ? out : FileManager.default.currentDirectoryPath + "/" + out
            let answer = try JSONRequest.send(["command": "model-export", "model": model, "out": absolute], peer: peer)
            guard answer["ok"] as? Bool == true else { throw CLIError("\(answer["message"] ?? "export refused")") }
            print(answer["message"] as? String ?? "exported")
        }
    }
}
