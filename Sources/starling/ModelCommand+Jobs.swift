import ArgumentParser
import Foundation
import StarlingLocalAPI

/// `starling model versions|rollback`: the model versions an IncrementalLearningJob deployed, and a
/// signed request to serve an earlier one again (docs/cli.md, "model versions", "model rollback").
/// NAME is the job (id, id prefix of 8+ hex, or name) or the model name it deploys.
extension ModelCommand {
    struct Versions: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The model versions of an IncrementalLearningJob, with lineage, data counts and metrics.",
            discussion: """
                NAME is the job's name, id or id prefix (8+ hex), or the model name it deploys \
                (deploySpec.model.name). One line per version, oldest first: version, * for the one \
                serving now, model hash (12 hex), parent version, cycle, training rows it was trained \
                on, evaluation rows, accuracy and f1 with their deltas against the version it was \
                compared with, and when it was deployed (UTC). --json prints the peer's answer.
                """)

        @Argument(help: "The job (name, id or id prefix), or the model name it deploys.")
        var name: String
        @Flag(help: "Print the peer's JSON answer.")
        var json = false
        @OptionGroup var peer: TaskCommand.PeerOption

        func run() throws {
            let (line, answer) = try PeerRequest.send(.modelVersions(name: name), to: peer.directory, as: ModelVersionsResponse.self)
            if json {
                print(String(decoding: line, as: UTF8.self), terminator: "")
                return
            }
            print(Self.text(answer), terminator: "")
        }

        static func text(_ answer: ModelVersionsResponse) -> String {
            let count = answer.versions.count
            var text = "job \(answer.name) \(answer.task.prefix(8)), model \(answer.deployModelName): \(count) version\(count == 1 ? "" : "s")"
            text += answer.currentVersion.map { ", version \($0) serving\n" } ?? ", none deployed yet\n"
            guard count > 0 else { return text }
            var rows = [["VERSION", "CURRENT", "MODEL", "PARENT", "CYCLE", "TRAIN ROWS", "EVAL ROWS", "ACCURACY", "F1", "DEPLOYED (UTC)"]]
            for version in answer.versions {
                let initial = version.parent == 0
                rows.append([String(version.version), version.version == answer.currentVersion ? "*" : "", String(version.model.prefix(12)),
                             initial ? "-" : String(version.parent), String(version.cycle),
                             initial ? "-" : String(version.trainSamples), initial ? "-" : String(version.evalSamples),
                             TaskCommand.metricCell(version, "accuracy") ?? "-", TaskCommand.metricCell(version, "f1") ?? "-",
                             version.deployedAt.map(TaskCommand.timestamp) ?? "-"])
            }
            return text + TaskCommand.columns(rows)
        }
    }

    struct Rollback: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Ask an IncrementalLearningJob to serve an earlier model version again.",
            discussion: """
                The peer (its certificate needs the submit role) signs a rollback request into the job; \
                the job's coordinator commits it as a step and the deploy peers' serving workers follow. \
                Without --to: the current version's parent. An unknown job, an unknown version, or a \
                current version with no parent is an error (exit 1) and changes nothing.
                """)

        @Argument(help: "The job (name, id or id prefix), or the model name it deploys.")
        var name: String
        @Option(name: .customLong("to"), help: "The version to serve again (default: the current version's parent).")
        var version: UInt64?
        @OptionGroup var peer: TaskCommand.PeerOption

        func validate() throws {
            if version == 0 { throw ValidationError("--to: model versions start at 1") }
        }

        func run() throws {
            let answer = try PeerRequest.answer(.modelRollback(name: name, version: version), to: peer.directory, as: ControlResponse.self)
            guard answer.ok else { throw CLIError("model rollback: \(answer.message)") }
            print(answer.message)
        }
    }
}
