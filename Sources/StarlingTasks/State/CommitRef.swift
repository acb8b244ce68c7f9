import StarlingCrypto

/// Names one committed round: under which epoch, which round, and the model it produced. A lease's
/// base, a `complete` entry and a `replicated` acknowledgement all point at a commit this way.
public struct CommitRef: Hashable, Sendable, CustomStringConvertible {
    public let epoch: UInt64
    public let round: UInt64
    /// The committed global model (`ModelHash.none` if the commit carried none).
    public let modelHash: ContentHash

    public init(epoch: UInt64, round: UInt64, modelHash: ContentHash) {
        self.epoch = epoch
        self.round = round
        self.modelHash = modelHash
    }

    public var description: String { "round \(round) (epoch \(epoch), model \(String(modelHash.hex.prefix(8))))" }
}
