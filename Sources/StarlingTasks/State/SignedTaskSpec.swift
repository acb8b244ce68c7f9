import StarlingCrypto
import StarlingTrust
import StarlingWire

/// A task as submitted: the spec's canonical bytes, who submitted it and when, and the submitter's
/// signature. Its hash is the task id, so everything a peer knows about a task starts here.
///
/// The spec is kept as the exact bytes that were signed (and decoded once, when the value is made),
/// so relaying it never depends on re-encoding giving the same bytes.
public struct SignedTaskSpec: Equatable, Sendable, WireCodable {
    public static let signingContext = Array("starling/task-spec/v1".utf8)

    /// `TaskSpec.wireBytes` as the submitter signed them.
    public let specBytes: [UInt8]
    /// The spec those bytes decode to (canonically: decoding then encoding gives `specBytes`).
    public let spec: TaskSpec
    public let submitter: NodeID
    /// Unix seconds on the submitter's clock: informative, and it makes two submissions of the same
    /// spec two different tasks.
    public let submittedAt: UInt64
    public let signature: Signature
    /// The hash of the whole encoding.
    public let id: TaskID

    /// Rebuilds a signed spec from its parts; throws when the bytes are not a canonical spec. Does
    /// not check the signature (see `verify`).
    public init(specBytes: [UInt8], submitter: NodeID, submittedAt: UInt64, signature: Signature) throws {
        guard specBytes.count <= TaskStateLimits.specBytesMax else {
            throw WireError.limitExceeded(field: "spec bytes", value: UInt64(specBytes.count), limit: TaskStateLimits.specBytesMax)
        }
        let spec = try TaskSpec(wireBytes: specBytes)
        guard spec.wireBytes == specBytes else { throw WireError.invalidField("spec bytes are not canonical") }
        self.specBytes = specBytes
        self.spec = spec
        self.submitter = submitter
        self.submittedAt = submittedAt
        self.signature = signature
        var writer = WireWriter(capacity: specBytes.count + 120)
        Self.encodeFields(specBytes: specBytes, submitter: submitter, submittedAt: submittedAt, to: &writer)
        writer.write(signature)
        id = TaskID(hash: ContentHash.of(writer.bytes))
    }

    /// Signs `spec` as submitted by the holder of `key` at `submittedAt` (unix seconds).
    public static func sign(_ spec: TaskSpec, submittedAt: UInt64, with key: SigningKey) throws -> SignedTaskSpec {
        let bytes = spec.wireBytes
        let submitter = NodeID(key.publicKey)
        let signature = key.sign(bytesToSign(specBytes: bytes, submitter: submitter, submittedAt: submittedAt))
        return try SignedTaskSpec(specBytes: bytes, submitter: submitter, submittedAt: submittedAt, signature: signature)
    }

    /// A domain-separation context, then every field but the signature.
    public static func bytesToSign(specBytes: [UInt8], submitter: NodeID, submittedAt: UInt64) -> [UInt8] {
        var writer = WireWriter(capacity: specBytes.count + 80)
        writer.writeFixed(signingContext)
        encodeFields(specBytes: specBytes, submitter: submitter, submittedAt: submittedAt, to: &writer)
        return writer.bytes
    }

    public var signedBytes: [UInt8] {
        Self.bytesToSign(specBytes: specBytes, submitter: submitter, submittedAt: submittedAt)
    }

    /// Checks that the submitter is a member whose certificate carries `.submit` and that the
    /// signature is valid. (The spec bytes were checked when the value was made.)
    public func verify(roles: RoleLookup, verifier: some SignatureVerifier) throws(TaskRejection) {
        guard let granted = roles(submitter) else { throw .unknownAuthor(submitter) }
        guard granted.contains(.submit) else { throw .missingRole(submitter, needs: .submit) }
        guard verifier.isValid(signature, for: signedBytes, by: submitter.publicKey) else { throw .badSignature }
    }

    static func encodeFields(specBytes: [UInt8], submitter: NodeID, submittedAt: UInt64, to writer: inout WireWriter) {
        writer.writeBytes(specBytes)
        writer.write(submitter)
        writer.writeVarint(submittedAt)
    }

    public func encode(to writer: inout WireWriter) {
        Self.encodeFields(specBytes: specBytes, submitter: submitter, submittedAt: submittedAt, to: &writer)
        writer.write(signature)
    }

    public init(from reader: inout WireReader) throws {
        let bytes = try reader.readBytes(field: "spec bytes", limit: TaskStateLimits.specBytesMax)
        let submitter = try reader.read(NodeID.self)
        let submittedAt = try reader.readVarint()
        let signature = try reader.read(Signature.self)
        try self.init(specBytes: bytes, submitter: submitter, submittedAt: submittedAt, signature: signature)
    }
}
