import ArgumentParser
import Foundation
import StarlingLocalAPI
import StarlingPeer
import StarlingRuntime
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The bounds of `starling infer`.
enum InferCommandLimits {
    /// Examples in one request: the peer's own bound.
    static let batchRowsMax = InferenceWireLimits.rowsMax
    /// How long a request may wait for its answer: the longest cloud leg a spec may ask for, and
    /// the local API's own time on either side of it.
    static let answerTimeout: Duration = ServingLimits.cloudTimeoutMax + LocalAPILimits.requestTimeout * 2
    /// How long the examples are sent again while the peer answers `unavailable` (its edge worker
    /// starting or restarting, or too many requests in progress) before the command gives up.
    static let unavailableWait: Duration = .seconds(10)
    static let unavailablePauseMicroseconds: useconds_t = 200_000
}

struct InferCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infer",
        abstract: "Send examples from a file to a JointInferenceService through a peer that serves it as an edge.",
        discussion: """
            FILE is CSV (a row per example; a header line is skipped), npz (an array x, X or data, and \
            optionally y) or safetensors (a tensor x or input, and optionally y). With labels the \
            accuracy is reported. Examples go in requests of --batch rows over the peer's local API \
            (DIR/starling.sock); a request too large for one line is split. Prints per example the \
            predicted class, its score and where it was computed (edge, cloud, edge-fallback), then \
            the counts by path, accuracy, hard share, fallback reasons and latency percentiles. \
            See docs/cli.md, "infer".
            """)

    @Argument(help: "The service (the JointInferenceService's name).")
    var service: String

    @Option(name: .long, help: "The examples: a .csv, .npz or .safetensors file.")
    var input: String

    @Option(name: .long, help: "The peer's data directory (default: $\(MembersCommand.dataDirectoryVariable), else .).")
    var peer: String?

    @Flag(name: .long, help: "Print one JSON object (every example and the summary).")
    var json = false

    @Option(name: .long, help: "Examples per request (default 1: each example's own latency; at most \(InferCommandLimits.batchRowsMax)).")
    var batch = 1

    @Option(name: .long, help: "Values per example; a CSV with one column more has its label last.")
    var features: Int?

    @Option(name: .long, help: "Where the labels are: auto, last (a CSV's last column; an array y) or none (default auto).")
    var labels: InferLabels = .auto

    func validate() throws {
        guard (1...InferCommandLimits.batchRowsMax).contains(batch) else {
            throw ValidationError("--batch \(batch) is not in 1...\(InferCommandLimits.batchRowsMax)")
        }
        if let features, !(1...1 << 20).contains(features) {
            throw ValidationError("--features \(features) is not a positive number of values")
        }
    }

    func run() throws {
        let directory = MembersCommand.dataDirectory(peer)
        let examples = try InferInputFile.read(path: input, features: features, labels: labels)
        if !json { print(examples.labelNote) }
        let client = LocalClient(dataDirectory: directory)
        var answered: [InferReport.Answered] = []
        for rows in try Self.requests(examples, service: service, batch: batch) {
            answered.append(try Self.send(rows, of: examples, service: service, client: client, directory: directory))
        }
        let report = InferReport(service: service, file: input, input: examples, answered: answered)
        if json {
            print(TaskCommand.json(report))
        } else {
            var text = report.text
            text.removeFirst(examples.labelNote.count + 1)  // printed above, before the requests
            print(text, terminator: "")
        }
    }

    /// The rows of each request: `batch` rows, a range halved until its request line fits
    /// `LocalAPILimits.requestBytesMax`. An example too large alone for a request is an error.
    static func requests(_ input: InferInput, service: String, batch: Int) throws -> [Range<Int>] {
        precondition(batch > 0, "a request holds at least one example")
        var ranges: [Range<Int>] = []
        var pending = stride(from: 0, to: input.rows, by: batch).map { $0..<min(input.rows, $0 + batch) }.reversed() as [Range<Int>]
        while let rows = pending.popLast() {
            if line(rows, of: input, service: service).count <= LocalAPILimits.requestBytesMax {
                ranges.append(rows)
                continue
            }
            guard rows.count > 1 else {
                throw CLIError("one example of \(input.featureCount) values makes a request of more than "
                    + "\(LocalAPILimits.requestBytesMax) bytes (LocalAPILimits.requestBytesMax); send it over the HTTP endpoint")
            }
            let middle = rows.lowerBound + rows.count / 2
            pending.append(middle..<rows.upperBound)
            pending.append(rows.lowerBound..<middle)
        }
        return ranges
    }

    static func line(_ rows: Range<Int>, of input: InferInput, service: String) -> [UInt8] {
        LocalRequest.infer(InferCall(service: service, shape: [rows.count, input.featureCount], data: input.values(rows))).line
    }

    /// One request and its latency; `unavailable` answers are sent again for a while.
    static func send(_ rows: Range<Int>, of input: InferInput, service: String, client: LocalClient,
                     directory: String) throws -> InferReport.Answered {
        let request = line(rows, of: input, service: service)
        let clock = ContinuousClock()
        let giveUp = clock.now + InferCommandLimits.unavailableWait
        while true {
            let started = clock.now
            do {
                let answerLine = try client.exchange(request, timeout: InferCommandLimits.answerTimeout)
                let elapsed = clock.now - started
                let answer = try LocalClient.decode(InferAnswer.self, from: answerLine)
                guard answer.classes > 0, answer.scores.count == rows.count * answer.classes, answer.computedAt.count == rows.count else {
                    throw CLIError("the peer's answer to examples \(rows.lowerBound)..<\(rows.upperBound) holds \(answer.scores.count) "
                        + "scores of \(answer.classes) classes and \(answer.computedAt.count) places for \(rows.count) examples")
                }
                let (seconds, attoseconds) = elapsed.components
                return InferReport.Answered(rows: rows, answer: answer,
                                            latencyMs: Double(seconds) * 1000 + Double(attoseconds) / 1e15)
            } catch let refusal as ErrorResponse {
                switch refusal.code {
                case .noService?:
                    throw CLIError("no service \(service) on the peer serving \(directory): \(refusal.error)")
                case .unavailable? where clock.now < giveUp:
                    usleep(InferCommandLimits.unavailablePauseMicroseconds)
                    continue
                case .badRequest?:
                    throw CLIError("the peer refused examples \(rows.lowerBound)..<\(rows.upperBound) of \(service): \(refusal.error) "
                        + "(this file's examples have \(input.featureCount) values; --features and --labels choose the columns)")
                default:
                    throw CLIError("the peer refused examples \(rows.lowerBound)..<\(rows.upperBound) of \(service): \(refusal.error)")
                }
            } catch let error as CLIError {
                throw error
            } catch {
                throw CLIError("\(error)")
            }
        }
    }
}
