import ArgumentParser
import Foundation
import StarlingRuntime

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
            var request: [String: Any] = ["command": "task-logs", "task": task]
            if let worker { request["worker"] = worker }
            let answer = try JSONRequest.send(request, peer: peer)
            let logs = answer["logs"] as? [[String: Any]] ?? []
            if logs.isEmpty {
                print("no worker of \(answer["name"] ?? task) has run on this peer" + (worker.map { " under the name \($0)" } ?? ""))
                return
            }
            for log in logs {
                print("==> \(log["worker"] ?? "") (\(log["path"] ?? "")) <==")
                print(log["text"] as? String ?? "", terminator: "")
            }
        }
    }
}
