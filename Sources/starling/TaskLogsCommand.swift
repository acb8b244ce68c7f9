import ArgumentParser
import Foundation
import StarlingLocalAPI

extension TaskCommand {
    /// `starling task logs NAME|ID [--worker W]`: what the task's workers on this peer printed.
    struct Logs: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print what the task's workers on this peer wrote to stdout and stderr (the end of each log).")

        @Argument(help: "The task: name, id or id prefix (8+ hex).")
        var task: String
        @Option(help: "Only this worker.")
        var worker: String?
        @OptionGroup var peer: PeerOption

        func run() throws {
            let answer = try PeerRequest.answer(.taskLogs(task: task, worker: worker), to: peer.directory, as: TaskLogsResponse.self)
            if answer.logs.isEmpty {
                print("no worker of \(answer.name) has run on this peer" + (worker.map { " under the name \($0)" } ?? ""))
                return
            }
            for log in answer.logs {
                print("==> \(log.worker) (\(log.path)) <==")
                print(log.text, terminator: "")
            }
        }
    }
}
