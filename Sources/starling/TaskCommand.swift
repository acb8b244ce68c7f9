import ArgumentParser
import Foundation
import StarlingCrypto
import StarlingLocalAPI
import StarlingRuntime
import StarlingTaskYAML
import StarlingTasks
import StarlingWire
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct TaskCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "task",
        abstract: "Submit, follow and cancel tasks on a running cluster.",
        discussion: """
            Every command talks to the peer serving DIR over its local API (DIR/starling.sock). DIR \
            is --peer, else $\(MembersCommand.dataDirectoryVariable), else the current directory. A \
            task is named by its full id, an id prefix of at least 8 hex characters, or its name. \
            Spec format: docs/tasks.md.
            """,
        subcommands: [Submit.self, List.self, Status.self, Watch.self, Cancel.self, Logs.self, RunLocal.self])

    struct PeerOption: ParsableArguments {
        @Option(name: .long, help: "The peer's data directory (default: $\(MembersCommand.dataDirectoryVariable), else .).")
        var peer: String?

        var directory: String { MembersCommand.dataDirectory(peer) }

        func tasks() throws -> (line: [UInt8], tasks: [TaskReport]) {
            let (line, answer) = try PeerRequest.send(.tasks, to: directory, as: TasksResponse.self)
            return (line, answer.tasks)
        }

        /// Node names the peer knows (best effort: an empty map when the members list fails).
        func names() -> [String: String] {
            guard let response = try? LocalClient(dataDirectory: directory).send(.members, as: MembersResponse.self) else { return [:] }
            return Dictionary(response.members.map { ($0.node, $0.name) }) { first, _ in first }
        }

        func control(_ request: LocalRequest) throws -> ControlResponse {
            try PeerRequest.answer(request, to: directory, as: ControlResponse.self)
        }
    }

    // MARK: Resolving NAME|ID

    /// The one task `reference` names: a full id, an id prefix of 8+ hex characters, or a name.
    /// Unknown and ambiguous references are errors that list what was found.
    static func resolve(_ reference: String, in tasks: [TaskReport], peer: String) throws -> TaskReport {
        let lowered = reference.lowercased()
        let isHex = !lowered.isEmpty && lowered.allSatisfy(\.isHexDigit)
        let matches = matching(reference, in: tasks)
        if matches.count == 1 { return matches[0] }
        if matches.isEmpty {
            let hint = isHex && lowered.count < 8 ? " (an id prefix needs at least 8 hex characters)" : ""
            let known = tasks.isEmpty ? "it holds no tasks"
                : "it holds " + tasks.map { "\($0.name) \($0.id.prefix(8))" }.joined(separator: ", ")
            throw CLIError("no task '\(reference)' on the peer serving \(peer)\(hint); \(known)")
        }
        let listed = matches.sorted { $0.submittedAt < $1.submittedAt }
            .map { "\($0.id) (\($0.name), submitted \(Self.timestamp($0.submittedAt)))" }.joined(separator: ", ")
        throw CLIError("'\(reference)' is ambiguous: it names \(matches.count) tasks: \(listed); give the id (or 8+ of its first hex characters)")
    }

    /// The tasks `reference` may mean: the one with that full id, else those with that name or
    /// (8+ hex characters) that id prefix.
    static func matching(_ reference: String, in tasks: [TaskReport]) -> [TaskReport] {
        let lowered = reference.lowercased()
        if let exact = tasks.first(where: { $0.id == lowered }) { return [exact] }
        let isHex = !lowered.isEmpty && lowered.allSatisfy(\.isHexDigit)
        return tasks.filter { task in
            task.name == reference || (isHex && lowered.count >= 8 && task.id.hasPrefix(lowered))
        }
    }

    // MARK: Formatting

    static func timestamp(_ unix: UInt64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(unix)))
    }

    /// A node's name when known, else the first 16 hex characters of its NodeID.
    static func display(_ node: String, name: String?, names: [String: String]) -> String {
        name ?? names[node] ?? String(node.prefix(16))
    }

    /// Names of nodes as far as the task itself tells them, merged with the members list.
    static func knownNames(_ task: TaskReport, members: [String: String]) -> [String: String] {
        var names = members
        if let name = task.submitterName { names[task.submitter] = name }
        if let node = task.coordinator, let name = task.coordinatorName { names[node] = name }
        for participant in task.participants { if let name = participant.nodeName { names[participant.node] = name } }
        return names
    }

    static func coordinatorText(_ task: TaskReport, names: [String: String]) -> String {
        guard let node = task.coordinator else { return "none" }
        return display(node, name: task.coordinatorName, names: names)
    }

    static func columns(_ rows: [[String]], indent: String = "") -> String {
        let widths = (0..<(rows.first?.count ?? 0)).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            indent + row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ").trimmingCharacters(in: .whitespaces) + "\n"
        }.joined()
    }

    /// The status block of `task status` (and of `task watch` on a terminal).
    static func statusText(_ task: TaskReport, names members: [String: String]) -> String {
        let names = knownNames(task, members: members)
        var text = "task         \(task.name) \(task.id)\n"
        text += "kind         \(task.kind)\n"
        text += "phase        \(task.phase)\n"
        text += "submitted    by \(display(task.submitter, name: task.submitterName, names: names)) at \(timestamp(task.submittedAt))\n"
        if let epoch = task.epoch, isFinished(task) {
            // A finished task needs no coordinator: its lease lapses as it should.
            text += "coordinator  \(coordinatorText(task, names: names)) at epoch \(epoch)\n"
        } else if let epoch = task.epoch {
            let lease: String
            if task.leaseValid {
                lease = task.leaseExpiresAt.map { "lease valid until \(timestamp($0))" } ?? "lease valid"
            } else {
                lease = task.leaseExpiresAt.map { "lease lapsed (expires \(timestamp($0)), or the holder is down)" } ?? "lease lapsed"
            }
            text += "coordinator  \(coordinatorText(task, names: names)) at epoch \(epoch), \(lease)\n"
        } else {
            text += "coordinator  none yet\n"
        }
        if let service = task.service {
            text += serviceText(service, names: names)
        } else if isService(task) {
            text += "deployment   none yet (waiting for its models and peers)\n"
        } else if let job = task.job {
            text += jobText(job)
        } else if isJob(task) {
            text += "stage        not known to this peer\n"
        } else {
            var round = "round        \(task.round) of \(task.rounds) committed"
            if let announced = task.announcedRound {
                round += "; round \(announced) announced"
                if let deadline = task.roundDeadline { round += ", deadline \(timestamp(deadline))" }
                if let used = task.roundAttempts, let most = task.roundAttemptsMax, used > 0 {
                    round += "; \(used) of \(most) attempts passed short of \(task.minNodeNumber ?? 0) updates"
                }
            }
            text += round + "\n"
            if task.participants.isEmpty {
                text += "participants none announced\n"
            } else {
                text += "participants\n"
                var rows = [["WORKER", "NODE", "STATE", "ROUND", "MESSAGE"]]
                for participant in task.participants {
                    rows.append([participant.worker, display(participant.node, name: participant.nodeName, names: names),
                                 participant.state ?? "-", participant.round.map(String.init) ?? "-", participant.message ?? ""])
                }
                text += columns(rows, indent: "  ")
            }
            if task.committed.isEmpty {
                text += "committed    none yet\n"
            } else {
                text += "committed\n"
                var rows = [["ROUND", "EPOCH", "COORDINATOR", "MODEL", "PARTICIPANTS", "METRICS"]]
                for commit in task.committed {
                    rows.append([String(commit.round), String(commit.epoch), display(commit.coordinator, name: nil, names: names),
                                 String(commit.modelHash.prefix(16)), commit.participants.joined(separator: ","),
                                 RoundMetrics.describe(commit.metrics)])
                }
                text += columns(rows, indent: "  ")
            }
        }
        text += "entries      \(task.entries) held, \(task.superseded) superseded, \(task.stale) stale\n"
        if let error = task.lastError { text += "last error   \(error)\n" }
        if let reason = task.cancelReason { text += "cancelled    \(reason)\n" }
        if let failure = task.failure { text += "failed       \(failure)\n" }
        return text
    }

    /// A JointInferenceService: deployments, not rounds.
    static func isService(_ task: TaskReport) -> Bool {
        task.service != nil || task.kind == "JointInferenceService"
    }

    static func isFinished(_ task: TaskReport) -> Bool {
        task.phase == "completed" || task.phase == "cancelled" || task.phase == "failed"
    }

    static func json<Value: Encodable>(_ value: Value) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(value)) ?? Data(), as: UTF8.self)
    }

    // MARK: Commands

    struct Submit: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a task spec (YAML) and submit it through a peer.",
            discussion: """
                The file is validated here first: every problem is printed (FILE:LINE: error: \
                FIELD.PATH: message) and nothing is sent. Warnings are printed too. A valid spec is \
                sent to the peer, which signs it (its certificate needs the submit role) and gossips \
                it; the command prints `submitted NAME ID`.
                """)

        @Argument(help: "The task spec (YAML, docs/tasks.md).")
        var file: String

        @OptionGroup var peer: PeerOption

        func run() throws {
            let spec = try Self.load(file, refusal: "nothing was submitted")
            let answer = try peer.control(.taskSubmit(spec: Base64.encode(spec.wireBytes)))
            guard answer.ok, let id = answer.fields["id"] else { throw CLIError(answer.message) }
            print("submitted \(answer.fields["name"] ?? spec.name) \(id)")
        }

        /// The spec in `file`, validated: every error printed (FILE:LINE: error: PATH: message) and
        /// a CLIError ending in `refusal`; warnings printed. `task submit` and `task run-local` read
        /// specs through this one function, so both say the same about the same file.
        static func load(_ file: String, refusal: String) throws -> TaskSpec {
            switch TaskSpecLoader.load(path: file) {
            case let .success(loaded):
                for warning in loaded.warnings {
                    FileHandle.standardError.write(Data((warning.formatted(file: file) + "\n").utf8))
                }
                return loaded.spec
            case let .failure(errors):
                FileHandle.standardError.write(Data((errors.description + "\n").utf8))
                let count = errors.errors.count
                throw CLIError("\(file): \(count) error\(count == 1 ? "" : "s"); \(refusal)")
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the tasks a peer holds.",
            discussion: """
                One line per task: NAME, ID (first 8 hex characters), KIND, PHASE, COORDINATOR, EPOCH \
                and ROUND (last committed / rounds; for a JointInferenceService vN, its deployment \
                version; for an IncrementalLearningJob vN STAGE/STATUS). --json prints the peer's answer as it is.
                """)

        @OptionGroup var peer: PeerOption

        @Flag(name: .long, help: "Print the raw JSON answer.")
        var json = false

        func run() throws {
            let (line, tasks) = try peer.tasks()
            if json {
                print(String(decoding: line, as: UTF8.self))
                return
            }
            if tasks.isEmpty {
                print("no tasks")
                return
            }
            let names = peer.names()
            var rows = [["NAME", "ID", "KIND", "PHASE", "COORDINATOR", "EPOCH", "ROUND"]]
            for task in tasks.sorted(by: { ($0.submittedAt, $0.name, $0.id) < ($1.submittedAt, $1.name, $1.id) }) {
                let taskNames = TaskCommand.knownNames(task, members: names)
                rows.append([task.name, String(task.id.prefix(8)), task.kind, task.phase,
                             task.coordinator == nil ? "-" : TaskCommand.coordinatorText(task, names: taskNames),
                             task.epoch.map(String.init) ?? "-", TaskCommand.progress(task)])
            }
            print(TaskCommand.columns(rows), terminator: "")
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one task in detail.",
            discussion: """
                Phase; coordinator, epoch and whether its lease stands; last committed round of the \
                total, and the announced round and its deadline; participants and their latest \
                reports; the committed rounds (round, epoch, coordinator); superseded and stale \
                entries; the last error and the cancel reason. A service shows its deployment instead \
                of rounds; a job its stage, version, train check, serving and latest steps. --json \
                prints the task's JSON object.
                """)

        @Argument(help: "The task: full id, id prefix (8+ hex characters) or name.")
        var task: String

        @OptionGroup var peer: PeerOption

        @Flag(name: .long, help: "Print the task as JSON (the object of the `tasks` local API answer).")
        var json = false

        func run() throws {
            let found = try TaskCommand.resolve(task, in: try peer.tasks().tasks, peer: peer.directory)
            if json {
                print(TaskCommand.json(found))
            } else {
                print(TaskCommand.statusText(found, names: peer.names()), terminator: "")
            }
        }
    }

    struct Watch: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Follow a task until it completes or is cancelled.",
            discussion: """
                Polls the peer every --interval. On a terminal it redraws the status block when \
                anything changes; otherwise it prints one timestamped line per change (phase, \
                coordinator and epoch, rounds, participants). Exits 0 when the task completes or is \
                cancelled, 2 when it fails, 1 when the peer stops answering or cannot run the task's kind.
                """)

        @Argument(help: "The task: full id, id prefix (8+ hex characters) or name.")
        var task: String

        @OptionGroup var peer: PeerOption

        @Option(name: .long, help: "How often to ask the peer: a number and ms, s or m (default 1s).")
        var interval = "1s"

        func validate() throws {
            guard let seconds = Self.seconds(interval), seconds >= 0.05, seconds <= 3600 else {
                throw ValidationError("--interval: '\(interval)' is not a duration from 50ms to 60m (such as 500ms, 1s, 2m)")
            }
        }

        /// How long `watch` waits for a task the peer has not heard of yet.
        static let arrivalSeconds = 10.0

        static func seconds(_ text: String) -> Double? {
            for (suffix, scale) in [("ms", 0.001), ("s", 1.0), ("m", 60.0)] where text.hasSuffix(suffix) {
                return Double(text.dropLast(suffix.count)).map { $0 * scale }
            }
            return Double(text)
        }

        func run() throws {
            let pause = Self.seconds(interval)!
            let terminal = isatty(STDOUT_FILENO) == 1
            // A task submitted through another peer a moment ago may not have reached this one yet.
            let patience = Date().addingTimeInterval(Self.arrivalSeconds)
            var tasks = try peer.tasks().tasks
            var waiting = false
            while TaskCommand.matching(task, in: tasks).isEmpty && Date() < patience {
                if !waiting {
                    FileHandle.standardError.write(Data("waiting up to \(Int(Self.arrivalSeconds)) s for task \(task) to reach the peer serving \(peer.directory)\n".utf8))
                    waiting = true
                }
                usleep(useconds_t(min(pause, 0.5) * 1_000_000))
                tasks = try peer.tasks().tasks
            }
            let id = try TaskCommand.resolve(task, in: tasks, peer: peer.directory).id
            var previous: TaskReport?
            var names = peer.names()
            var reported: [String: String] = [:]
            while true {
                let current: TaskReport
                do {
                    guard let found = try peer.tasks().tasks.first(where: { $0.id == id }) else {
                        throw CLIError("the peer serving \(peer.directory) no longer holds task \(id)")
                    }
                    current = found
                } catch let error as CLIError {
                    throw CLIError("watch \(task) stopped: \(error.description)")
                }
                if let node = current.coordinator, names[node] == nil, current.coordinatorName == nil { names = peer.names() }
                if current != previous {
                    if terminal {
                        print("\u{1B}[H\u{1B}[2J" + TaskCommand.statusText(current, names: names), terminator: "")
                        print("(watching every \(interval); updated \(TaskCommand.timestamp(currentUnixTime())))")
                    } else {
                        for line in Self.changes(from: previous, to: current, names: names, reported: &reported) {
                            print("\(TaskCommand.timestamp(currentUnixTime())) \(current.name): \(line)")
                        }
                    }
                    fflush(nil)  // all streams: each change shows at once, even into a pipe
                    previous = current
                }
                if current.phase == "unsupported" {
                    // Held and gossiped, never run by this peer: watching would wait for ever.
                    throw CLIError("task \(current.name) is a \(current.kind), which the peer serving \(peer.directory) has no "
                        + "program for: it holds the task and never runs it")
                }
                if TaskCommand.isFinished(current) {
                    // A script can tell a failed task (the reason is printed above) from a finished one.
                    if current.phase == "failed" { throw ExitCode(2) }
                    return
                }
                usleep(useconds_t(pause * 1_000_000))
            }
        }

        /// What changed, one short phrase per line; the first snapshot gives one line with everything.
        /// `reported` remembers each worker's last printed report across rounds (between a commit
        /// and the next announcement a task has no participants), so a report is printed once.
        static func changes(from old: TaskReport?, to new: TaskReport, names members: [String: String],
                            reported: inout [String: String]) -> [String] {
            let names = TaskCommand.knownNames(new, members: members)
            let coordinator = new.epoch.map { "coordinator \(TaskCommand.coordinatorText(new, names: names)) epoch \($0)" }
                ?? "no coordinator"
            var lines: [String] = []
            // The end (completed, cancelled) is printed last, after the rounds committed before it
            // that the same poll saw; the start (pending -> running) first.
            var end: String?
            if let old {
                if old.phase != new.phase {
                    var line = "phase \(old.phase) -> \(new.phase)"
                    if new.phase == "cancelled", let reason = new.cancelReason { line += " (\(reason))" }
                    if new.phase == "failed", let failure = new.failure { line += ": \(failure)" }
                    if TaskCommand.isFinished(new) { end = line } else { lines.append(line) }
                }
                if old.coordinator != new.coordinator || old.epoch != new.epoch { lines.append(coordinator) }
                // A finished task's lease lapses as it should: no warning.
                if old.leaseValid != new.leaseValid && old.coordinator == new.coordinator && old.epoch == new.epoch
                    && !TaskCommand.isFinished(new) {
                    lines.append(new.leaseValid ? "lease stands again" : "lease lapsed (expired, or the coordinator is down)")
                }
                let oldRounds = Set(old.committed.map { "\($0.round)/\($0.epoch)/\($0.modelHash)" })
                // A job's steps are its commits: they are told by `jobChanges`, in words.
                for commit in new.committed where !TaskCommand.isJob(new) && !oldRounds.contains("\(commit.round)/\(commit.epoch)/\(commit.modelHash)") {
                    let metrics = RoundMetrics.describe(commit.metrics)
                    lines.append("round \(commit.round)/\(new.rounds) committed at epoch \(commit.epoch) by "
                        + TaskCommand.display(commit.coordinator, name: nil, names: names)
                        + " from \(commit.participants.count) updates" + (metrics.isEmpty ? "" : ": \(metrics)"))
                }
                if new.round < old.round { lines.append("last committed round went back from \(old.round) to \(new.round)") }
                if let announced = new.announcedRound,
                   announced != old.announcedRound || new.epoch != old.epoch || new.roundDeadline != old.roundDeadline {
                    let placed = new.participants.map { "\($0.worker) on \(TaskCommand.display($0.node, name: $0.nodeName, names: names))" }
                    lines.append("round \(announced) announced (\(placed.joined(separator: ", ")))"
                        + (new.roundDeadline.map { ", deadline \(TaskCommand.timestamp($0))" } ?? ""))
                }
                if let error = new.lastError, error != old.lastError { lines.append("error: \(error)") }
                if let deployment = TaskCommand.deploymentChange(from: old, to: new) { lines.append(deployment) }
                if let job = new.job { lines += TaskCommand.jobChanges(from: old.job, to: job) }
            } else {
                var line = "\(new.phase), \(coordinator), "
                if let job = new.job {
                    line += "cycle \(job.cycle) \(job.stage) \(job.status), " + (job.currentVersion.map { "version \($0)" } ?? "no version yet")
                } else {
                    line += TaskCommand.isService(new) ? "deployment \(TaskCommand.progress(new))" : "round \(new.round)/\(new.rounds)"
                }
                if let announced = new.announcedRound { line += ", round \(announced) announced" }
                if let reason = new.cancelReason { line += ", cancelled: \(reason)" }
                if let failure = new.failure { line += ", failed: \(failure)" }
                lines.append(line)
            }
            for participant in new.participants {
                guard let state = participant.state else { continue }
                var line = "\(participant.worker) on \(TaskCommand.display(participant.node, name: participant.nodeName, names: names)): "
                    + state + (participant.round.map { " (round \($0))" } ?? "")
                if let message = participant.message, !message.isEmpty { line += ": \(message)" }
                guard reported[participant.worker] != line else { continue }
                reported[participant.worker] = line
                lines.append(line)
            }
            if let end { lines.append(end) }
            return lines
        }
    }

    struct Cancel: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Cancel a task (the peer's certificate needs the submit role).")

        @Argument(help: "The task: full id, id prefix (8+ hex characters) or name.")
        var task: String

        @OptionGroup var peer: PeerOption

        @Option(name: .long, help: "Why (kept with the task, at most 200 characters).")
        var reason: String?

        func run() throws {
            let found = try TaskCommand.resolve(task, in: try peer.tasks().tasks, peer: peer.directory)
            if found.phase == "completed" {
                throw CLIError("task \(found.name) \(found.id) already completed (round \(found.round) of \(found.rounds)); nothing to cancel")
            }
            if found.phase == "cancelled" {
                print("task \(found.name) \(found.id) was already cancelled" + (found.cancelReason.map { ": \($0)" } ?? ""))
                return
            }
            let answer = try peer.control(.taskCancel(task: found.id, reason: reason))
            guard answer.ok else { throw CLIError(answer.message) }
            print("cancelled \(found.name) \(found.id)")
        }
    }
}
