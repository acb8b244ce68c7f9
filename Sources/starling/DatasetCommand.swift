import ArgumentParser
import Foundation
import StarlingRuntime

/// `starling dataset add|list|remove`: data kept at the edge. The rows never leave the peer; only
/// a dataset's name, format, size and sample count are gossiped (docs/workers.md).
struct DatasetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dataset",
        abstract: "Register the local datasets training workers are placed by.",
        subcommands: [Add.self, List.self, Remove.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register a local data file under NAME (the peer reads it to check it and count samples).")

        @Argument(help: "The dataset's name, as task specs give it (a DNS-1123 label).")
        var name: String
        @Option(help: "The data file: CSV (numeric columns, label last, optional header) or npz (arrays x and y).")
        var path: String
        @Option(help: "csv or npz (default: from the file's extension).")
        var format: String?
        @OptionGroup var peer: TaskCommand.PeerOption

        func run() throws {
            let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
            var request: [String: Any] = ["command": "dataset-add", "name": name, "path": absolute]
            if let format { request["format"] = format }
            let answer = try JSONRequest.send(request, peer: peer)
            guard answer["ok"] as? Bool == true else { throw CLIError("dataset add refused: \(answer["message"] ?? "")") }
            print(answer["message"] as? String ?? "added")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "This peer's datasets, and those the other live peers declare.")

        @Flag(help: "Print the peer's JSON answer.")
        var json = false
        @OptionGroup var peer: TaskCommand.PeerOption

        func run() throws {
            let (line, answer) = try JSONRequest.sendRaw(["command": "dataset-list"], peer: peer)
            if json {
                print(String(decoding: line, as: UTF8.self), terminator: "")
                return
            }
            let local = answer["datasets"] as? [[String: Any]] ?? []
            print("on this peer:")
            if local.isEmpty { print("  (none; add one with `starling dataset add NAME --path FILE`)") }
            for dataset in local {
                print("  \(dataset["name"] ?? "")  \(dataset["format"] ?? "")  \(dataset["samples"] ?? 0) samples  "
                    + "\(dataset["features"] ?? 0) features  \(dataset["classes"] ?? 0) classes  \(dataset["path"] ?? "")")
            }
            let declared = answer["declared"] as? [[String: Any]] ?? []
            print("declared in the cluster:")
            if declared.isEmpty { print("  (none)") }
            for dataset in declared {
                print("  \(dataset["name"] ?? "") on \(dataset["peer"] ?? "")  \(dataset["format"] ?? "")  "
                    + "\(dataset["samples"] ?? 0) samples  \(dataset["bytes"] ?? 0) bytes")
            }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Forget a dataset (its file stays).")

        @Argument var name: String
        @OptionGroup var peer: TaskCommand.PeerOption

        func run() throws {
            let answer = try JSONRequest.send(["command": "dataset-remove", "name": name], peer: peer)
            guard answer["ok"] as? Bool == true else { throw CLIError("\(answer["message"] ?? "refused")") }
            print(answer["message"] as? String ?? "removed")
        }
    }
}

/// One local API request built from a dictionary, answered as a dictionary.
enum JSONRequest {
    static func sendRaw(_ object: [String: Any], peer: TaskCommand.PeerOption) throws -> ([UInt8], [String: Any]) {
        var line = [UInt8](try JSONSerialization.data(withJSONObject: object))
        line.append(UInt8(ascii: "\n"))
        let answer = try peer.request(line)
        guard let decoded = (try? JSONSerialization.jsonObject(with: Data(answer))) as? [String: Any] else {
            throw CLIError("unexpected answer from the peer: \(String(decoding: answer.prefix(200), as: UTF8.self))")
        }
        return (answer, decoded)
    }

    static func send(_ object: [String: Any], peer: TaskCommand.PeerOption) throws -> [String: Any] {
        try sendRaw(object, peer: peer).1
    }
}
