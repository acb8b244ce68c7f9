import StarlingLearning
import StarlingLocalAPI

/// An application's call to a JointInferenceService its peer serves as an edge, through the peer's
/// local socket (the Swift Lib's counterpart of Python's `starling.infer`; over the network, use the
/// peer's `--http` endpoint with any Open Inference Protocol client). docs/workers.md, "Calling a
/// service".
///
///     let client = ServiceClient(peer: "/var/lib/starling")
///     let answer = try client.infer("digits-joint", [[0.0, 0.125, ...]])
///     answer.classes[0], answer.computedAt[0]     // 7, "edge"
public struct ServiceClient: Sendable {
    /// One example's answer rows, and where each was computed.
    public struct Answer: Sendable, Equatable {
        /// examples × classes class probabilities, a row per example.
        public let scores: [[Float]]
        /// The predicted class of each example.
        public let classes: [Int]
        /// `edge`, `cloud` or `edge-fallback`, per example.
        public let computedAt: [String]
        /// Why the cloud's answer was not used, when some example fell back.
        public let fallbackReason: String?
        public let edgeVersion: UInt64
    }

    public let peer: LocalClient

    /// `peer`: the peer's data directory (its socket is `DIR/starling.sock`).
    public init(peer dataDirectory: String) { peer = LocalClient(dataDirectory: dataDirectory) }

    /// Scores `examples` (each of the same width). Throws `WorkerError` for examples of uneven
    /// width or none, `ErrorResponse` for the peer's refusal (`no-service`, `unavailable`,
    /// `bad-request`), `LocalClientError` when the peer cannot be reached.
    public func infer(_ service: String, _ examples: [[Float]], timeout: Duration = .seconds(35)) throws -> Answer {
        guard let width = examples.first?.count, width > 0, examples.allSatisfy({ $0.count == width }) else {
            throw WorkerError("infer needs at least one example, all of the same number of values")
        }
        let call = InferCall(service: service, shape: [examples.count, width], data: examples.flatMap { $0 })
        let line = try peer.line(.infer(call), timeout: timeout)
        let answer = try LocalClient.decode(InferAnswer.self, from: line)
        guard answer.classes > 0, answer.scores.count == examples.count * answer.classes,
              answer.computedAt.count == examples.count else {
            throw WorkerError("the peer's answer has \(answer.scores.count) scores of \(answer.classes) classes for \(examples.count) examples")
        }
        let rows = (0..<examples.count).map { Array(answer.scores[($0 * answer.classes)..<(($0 + 1) * answer.classes)]) }
        let classes = JointAnswer.classes(of: answer.scores, classes: answer.classes)
        return Answer(scores: rows, classes: classes, computedAt: answer.computedAt, fallbackReason: answer.fallbackReason,
                      edgeVersion: answer.edgeVersion)
    }
}
