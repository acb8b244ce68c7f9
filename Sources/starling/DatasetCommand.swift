import ArgumentParser
import Foundation
import StarlingLocalAPI

/// `starling dataset add|append|list|remove`: data kept at the edge. The rows never leave the peer;
/// only a dataset's name, format, size and sample count are gossiped (docs/workers.md).
struct DatasetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dataset",
        abstract: "Register the local datasets training workers are placed by.",
        subcommands: [Add.self, Append.self, List.self, Remove.self])

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
            let absolute = CLIPath.absolute(path)
            let answer = try PeerRequest.answer(.datasetAdd(name: name, path: absolute, format: format), to: peer.directory,
                                                as: DatasetAddResponse.self)
            guard answer.ok else { throw CLIError("dataset add refused: \(answer.message)") }
            print(answer.message)
        }
    }

    struct Append: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add the samples of a file to the registered dataset NAME (the peer keeps a copy; durable when it returns).")

        @Argument(help: "A dataset registered on this peer (starling dataset add).")
        var name: String
        @Option(help: "The new samples, as dataset add reads them, with the dataset's feature count.")
        var path: String
        @Option(help: "csv or npz (default: from the file's extension).")
        var format: String?
        @OptionGroup var peer: TaskCommand.PeerOption

        func run() throws {
            let absolute = CLIPath.absolute(path)
            let answer = try PeerRequest.answer(.datasetAppend(name: name, path: absolute, format: format), to: peer.directory,
                                                as: DatasetAppendResponse.self)
            guard answer.ok else { throw CLIError("dataset append refused: \(answer.message)") }
            print(answer.message)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "This peer's datasets, and those the other live peers declare.")

        @Flag(help: "Print the peer's JSON answer.")
        var json = false
        @OptionGroup var peer: TaskCommand.PeerOption

        func run() throws {
            let (line, answer) = try PeerRequest.send(.datasetList, to: peer.directory, as: DatasetListResponse.self)
            if json {
                print(String(decoding: line, as: UTF8.self), terminator: "")
                return
            }
            print("on this peer:")
            if answer.datasets.isEmpty { print("  (none; add one with `starling dataset add NAME --path FILE`)") }
            for dataset in answer.datasets {
                print("  \(dataset.name)  \(dataset.format)  \(dataset.samples) samples  "
                    + "\(dataset.features) features  \(dataset.classes) classes  "
                    + "\(dataset.arrivals) arrival\(dataset.arrivals == 1 ? "" : "s")  \(dataset.path)")
            }
            print("declared in the cluster:")
            if answer.declared.isEmpty { print("  (none)") }
            for dataset in answer.declared {
                print("  \(dataset.name) on \(dataset.peer)  \(dataset.format)  \(dataset.samples) samples  \(dataset.bytes) bytes")
            }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Forget a dataset (its file stays).")

        @Argument var name: String
        @OptionGroup var peer: TaskCommand.PeerOption

        func run() throws {
            let answer = try PeerRequest.answer(.datasetRemove(name: name), to: peer.directory, as: OutcomeResponse.self)
            guard answer.ok else { throw CLIError(answer.message) }
            print(answer.message)
        }
    }
}
