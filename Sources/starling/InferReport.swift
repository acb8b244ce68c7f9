import Foundation
import StarlingLearning
import StarlingLocalAPI

/// What `starling infer` found: an answer per example and the summary of them (counts by path,
/// accuracy, hard share, fallback reasons, request latency percentiles). Pure: built from the
/// answers and the measured latencies, printed as text or as one JSON object.
struct InferReport: Codable, Equatable {
    struct Example: Codable, Equatable {
        var index: Int
        var predicted: Int
        var score: Float
        /// edge, cloud or edge-fallback.
        var computedAt: String
        var label: Int?
        var correct: Bool?
        /// The latency of the request that carried the example.
        var latencyMs: Double

        enum CodingKeys: String, CodingKey {
            case index, predicted = "class", score, computedAt = "computed_at", label, correct, latencyMs = "latency_ms"
        }
    }

    struct Latency: Codable, Equatable {
        var p50: Double
        var p90: Double
        var p99: Double
        var max: Double
    }

    var service: String
    var file: String
    var labels: String
    var features: Int
    var requests: Int
    /// Examples in the largest request.
    var largestRequest: Int
    var examples: [Example]
    var paths: [String: Int]
    var correct: Int?
    var accuracy: Double?
    /// cloud + edge-fallback over all examples: the share the miner found hard.
    var hardShare: Double
    /// Examples answered at the edge after all, by the reason the cloud's answer was not used.
    var fallbackReasons: [String: Int]
    /// Over the requests, in milliseconds.
    var latencyMs: Latency
    var edgeVersions: [UInt64]
    var cloudVersions: [UInt64]

    enum CodingKeys: String, CodingKey {
        case service, file, labels, features, requests, largestRequest = "largest_request", examples, paths, correct, accuracy, hardShare = "hard_share",
             fallbackReasons = "fallback_reasons", latencyMs = "latency_ms", edgeVersions = "edge_versions",
             cloudVersions = "cloud_versions"
    }

    /// One request's answer and how long it took.
    struct Answered {
        var rows: Range<Int>
        var answer: InferAnswer
        var latencyMs: Double
    }

    /// The report of `answered` (in any order; every example of `input` once).
    init(service: String, file: String, input: InferInput, answered: [Answered]) {
        precondition(answered.reduce(0) { $0 + $1.rows.count } == input.rows, "every example is answered once")
        var examples: [Example] = []
        examples.reserveCapacity(input.rows)
        var fallbackReasons: [String: Int] = [:]
        for request in answered.sorted(by: { $0.rows.lowerBound < $1.rows.lowerBound }) {
            let classes = request.answer.classes
            let predicted = JointAnswer.classes(of: request.answer.scores, classes: classes)
            for (offset, index) in request.rows.enumerated() {
                let best = predicted[offset]
                let label = input.labels?[index]
                let place = request.answer.computedAt[offset]
                if place == "edge-fallback" { fallbackReasons[request.answer.fallbackReason ?? "unknown", default: 0] += 1 }
                examples.append(Example(index: index, predicted: best, score: request.answer.scores[offset * classes + best],
                                        computedAt: place, label: label, correct: label.map { $0 == best },
                                        latencyMs: request.latencyMs))
            }
        }
        self.service = service
        self.file = file
        labels = input.labelNote
        features = input.featureCount
        requests = answered.count
        largestRequest = answered.map(\.rows.count).max() ?? 0
        self.examples = examples
        paths = Dictionary(examples.map { ($0.computedAt, 1) }, uniquingKeysWith: +)
        if input.labels != nil {
            let right = examples.filter { $0.correct == true }.count
            correct = right
            accuracy = examples.isEmpty ? nil : Double(right) / Double(examples.count)
        }
        let hard = (paths["cloud"] ?? 0) + (paths["edge-fallback"] ?? 0)
        hardShare = examples.isEmpty ? 0 : Double(hard) / Double(examples.count)
        self.fallbackReasons = fallbackReasons
        let latencies = answered.map(\.latencyMs).sorted()
        latencyMs = Latency(p50: Self.percentile(latencies, 50), p90: Self.percentile(latencies, 90),
                            p99: Self.percentile(latencies, 99), max: latencies.last ?? 0)
        edgeVersions = Set(answered.map(\.answer.edgeVersion)).sorted()
        cloudVersions = Set(answered.compactMap(\.answer.cloudVersion)).sorted()
    }

    /// The nearest-rank percentile of ascending `sorted` values: the smallest value with at least
    /// `percent`% of the values at or below it (0 for no values).
    static func percentile(_ sorted: [Double], _ percent: Double) -> Double {
        precondition(percent > 0 && percent <= 100, "a percentile is in (0, 100]")
        guard !sorted.isEmpty else { return 0 }
        let rank = Int((percent / 100 * Double(sorted.count)).rounded(.up))
        return sorted[min(sorted.count, max(1, rank)) - 1]
    }

    /// Paths in a fixed order (edge, cloud, edge-fallback, then any other), with their counts.
    static func ordered(_ counts: [String: Int]) -> [(String, Int)] {
        let known = ["edge", "cloud", "edge-fallback"]
        return known.compactMap { name in counts[name].map { (name, $0) } }
            + counts.filter { !known.contains($0.key) }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    static func milliseconds(_ value: Double) -> String { String(format: "%.1f ms", value) }

    /// The table of examples and the summary, as `starling infer` prints them.
    var text: String {
        let labelled = correct != nil
        var rows = [["INDEX", "CLASS", "SCORE", "AT"] + (labelled ? ["LABEL", "CORRECT"] : [])]
        for example in examples {
            rows.append([String(example.index), String(example.predicted), String(format: "%.4f", example.score), example.computedAt]
                + (labelled ? [example.label.map(String.init) ?? "-", example.correct == true ? "yes" : "no"] : []))
        }
        var text = labels + "\n" + TaskCommand.columns(rows)
        let perRequest = largestRequest == 1 ? "1 example each" : "at most \(largestRequest) examples each"
        text += "examples     \(examples.count) in \(requests) request\(requests == 1 ? "" : "s") of \(features) features\n"
        text += "paths        " + Self.ordered(paths).map { "\($0.0) \($0.1)" }.joined(separator: ", ") + "\n"
        if let accuracy, let correct {
            text += String(format: "accuracy     %.4f", accuracy) + " (\(correct) of \(examples.count) correct)\n"
        }
        text += String(format: "hard share   %.4f", hardShare) + " (cloud + edge-fallback over all)\n"
        text += "fallbacks    " + (fallbackReasons.isEmpty ? "none"
            : fallbackReasons.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: "; ")) + "\n"
        text += "latency      p50 \(Self.milliseconds(latencyMs.p50)), p90 \(Self.milliseconds(latencyMs.p90)), "
            + "p99 \(Self.milliseconds(latencyMs.p99)), max \(Self.milliseconds(latencyMs.max)) per request (\(perRequest))\n"
        text += "versions     edge \(edgeVersions.map(String.init).joined(separator: ","))"
            + (cloudVersions.isEmpty ? "" : ", cloud \(cloudVersions.map(String.init).joined(separator: ","))") + "\n"
        return text
    }
}
