import ArgumentParser
import Foundation
import StarlingLocalAPI
import StarlingRuntime
import StarlingTasks

/// `starling model list|import|remove|export|versions|rollback`: committed global models this peer
/// holds, the starting models imported on it (docs/workers.md, "A starting model"), and an
/// IncrementalLearningJob's model versions (`ModelCommand+Jobs.swift`).
struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Import starting models; list and export the committed global models a peer holds; a job's model versions.",
        subcommands: [List.self, Import.self, Remove.self, Export.self, Versions.self, Rollback.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Committed models held here, newest first, with round and metrics; then the imported models.")

        @Flag(help: "Print the peer's JSON answer.")
        var json = false
        @OptionGroup var peer: TaskCommand.PeerOption

        func run() throws {
            let (line, answer) = try PeerRequest.send(.modelList, to: peer.directory, as: ModelListResponse.self)
            if json {
                print(String(decoding: line, as: UTF8.self), terminator: "")
                return
            }
            if answer.models.isEmpty && answer.imported.isEmpty { print("no models held on this peer") }
            for model in answer.models {
                let metrics = model.metrics.sorted { $0.key < $1.key }
                    .map { "\($0.key) \(String(format: "%.4f", $0.value))" }.joined(separator: ", ")
                print("\(model.hash.prefix(16))  \(model.taskName)  round \(model.round)  "
                    + "\(model.parameters) parameters  \(model.bytes) bytes" + (metrics.isEmpty ? "" : "  \(metrics)"))
            }
            for model in answer.imported {
                print("\(model.hash.prefix(16))  \(model.name)  imported  "
                    + "\(model.parameters) parameters  \(model.bytes) bytes  from \(model.path)"
                    + (model.held ? "" : "  (its blob is missing here)"))
            }
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import a safetensors file as the starting model NAME (a task's aggregationWorker.model.name).",
            discussion: """
                The file must decode, hold only F32 tensors and only finite values. The peer stores it as a \
                blob, records NAME durably and declares it in its tags (model.NAME = hash), so a task whose \
                aggregationWorker.model.name is NAME starts round 1 from it. Importing NAME again replaces it.
                """)

        @Argument(help: "The model's name, as task specs give it in aggregationWorker.model.name.")
        var name: String
        @Option(help: "The model file (FILE.safetensors).")
        var path: String
        @OptionGroup var peer: TaskCommand.PeerOption

        func run() throws {
            if let problem = ModelTags.problem(withName: name) { throw CLIError("model import: \(problem)") }
            let absolute = CLIPath.absolute(path)
            // Checked here first, so a bad file is reported as such; the peer checks what it reads again.
            do { _ = try ImportedModelFile(path: absolute) } catch { throw CLIError("\(error)") }
            let answer = try PeerRequest.answer(.modelImport(name: name, path: absolute), to: peer.directory,
                                                as: ModelImportResponse.self)
            guard answer.ok else { throw CLIError("model import refused: \(answer.message)") }
            print(answer.message)
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Forget an imported model (its blob goes unless a committed model is the same).")

        @Argument var name: String
        @OptionGroup var peer: TaskCommand.PeerOption

        func run() throws {
            let answer = try PeerRequest.answer(.modelRemove(name: name), to: peer.directory, as: OutcomeResponse.self)
            guard answer.ok else { throw CLIError(answer.message) }
            print(answer.message)
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a task's last committed model (or a model by hash prefix) as a safetensors file.",
            discussion: """
                TASK is a task name or id: its last committed round as this peer's task state knows it. When \
                this peer lacks that model it fetches it first (from the commit's coordinator, the peers that \
                acknowledged it, the current round's participants); if it cannot, it fails, saying which round \
                it holds and which one the task committed. A task still running gives its latest round, and \
                says so. A hash prefix (8+ hex) names a model held here, committed or imported.
                """)

        @Argument(help: "A task name or id, or a model hash prefix (8+ hex).")
        var model: String
        @Option(help: "Where to write it (FILE.safetensors).")
        var out: String
        @OptionGroup var peer: TaskCommand.PeerOption

        func run() throws {
            let absolute = CLIPath.absolute(out)
            // The peer may fetch the model first: it answers within modelExportWaitMax.
            let answer = try PeerRequest.answer(.modelExport(model: model, out: absolute), to: peer.directory,
                                                as: ModelExportResponse.self, timeout: LocalAPILimits.modelExportTimeout)
            guard answer.ok else { throw CLIError("model export: \(answer.message)") }
            print(answer.message)
        }
    }
}
