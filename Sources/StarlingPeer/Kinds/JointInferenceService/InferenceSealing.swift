import StarlingCrypto
import StarlingTasks
import StarlingTrust
import StarlingWire

/// Every bound of the edge-to-cloud messages, in one place.
public enum InferenceWireLimits {
    /// Examples in one request (the HTTP endpoint's own batch limit is the same).
    public static let rowsMax = 4_096
    /// Values in one request, and scores in one answer.
    public static let valuesMax = 1 << 20
    /// Classes a model may score.
    public static let classesMax = 4_096
    /// An answer's refusal text.
    public static let messageBytesMax = 512
}

/// Hard examples an edge asks a cloud peer to score: `rows` examples of `features` values each,
/// for the service `task`, answered within `deadlineMillis`.
public struct InferRequestBody: Equatable, Sendable {
    public let task: TaskID
    public let deadlineMillis: UInt64
    public let rows: Int
    public let features: Int
    public let values: [Float]

    public init(task: TaskID, deadlineMillis: UInt64, rows: Int, features: Int, values: [Float]) {
        precondition(rows * features == values.count, "a request's values fill its rows")
        self.task = task
        self.deadlineMillis = deadlineMillis
        self.rows = rows
        self.features = features
        self.values = values
    }
}

/// A cloud peer's answer: the scores (`rows` × `classes`) and the deployment version whose model
/// made them, or why it did not answer.
public enum InferResponseBody: Equatable, Sendable {
    case scores(version: UInt64, classes: Int, values: [Float])
    case refused(String)
}

/// Edge-to-cloud requests and answers as stream messages, sealed with the pairwise keys of the two
/// peers (as blobs are, `BlobSealing`):
///
///     request:  version tag(23) requester(32) AEAD(task deadline rows features values)
///               associated data: context, tag, requester
///     response: version tag(24) AEAD(status [version classes scores | message])
///               associated data: context, tag, the request's nonce
///
/// Only the holder of the requester's identity could have sealed the request; the answer is bound
/// to the request's nonce, so it cannot be replayed as the answer to another. Examples and scores
/// are both encrypted: inference data never crosses the network in clear, nor through gossip.
public enum InferenceSealing {
    static let requestContext = Array("starling/infer-request/v1".utf8)
    static let responseContext = Array("starling/infer-response/v1".utf8)

    public struct SealedRequest: Sendable {
        public let bytes: [UInt8]
        public let nonce: [UInt8]
    }

    public struct ReceivedRequest: Sendable {
        public let requester: PublicKey
        let sealed: [UInt8]
        public var nonce: [UInt8] { Array(sealed.prefix(AEAD.nonceByteCount)) }
    }

    /// Whether stream-message bytes carry an inference request (version, then tag 23).
    public static func isInferRequest(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && ProtocolVersion.supported.contains(bytes[0]) && bytes[1] == UInt8(MessageTag.inferRequest.rawValue)
    }

    public static func sealRequest<R: RandomNumberGenerator>(_ request: InferRequestBody, requester: PublicKey, keys: PairwiseKeys,
                                                              using random: inout R) -> SealedRequest {
        var plaintext = WireWriter(capacity: 48 + request.values.count * 4)
        plaintext.writeFixed(request.task.hash.bytes)
        plaintext.writeVarint(request.deadlineMillis)
        plaintext.writeVarint(request.rows)
        plaintext.writeVarint(request.features)
        writeFloats(request.values, to: &plaintext)
        let sealed = AEAD.seal(plaintext.bytes, additionalData: requestData(requester), key: keys.sending, using: &random)
        var bytes = [ProtocolVersion.current, UInt8(MessageTag.inferRequest.rawValue)]
        bytes.reserveCapacity(2 + PublicKey.byteCount + sealed.count)
        bytes.append(contentsOf: requester.bytes)
        bytes.append(contentsOf: sealed)
        return SealedRequest(bytes: bytes, nonce: Array(sealed.prefix(AEAD.nonceByteCount)))
    }

    /// Reads who sent a request, without opening it.
    public static func receive(_ bytes: [UInt8]) throws -> ReceivedRequest {
        guard isInferRequest(bytes) else { throw WireError.invalidField("not an inference request") }
        guard bytes.count >= 2 + PublicKey.byteCount + AEAD.overheadByteCount else {
            throw WireError.truncated(offset: bytes.count, needed: 2 + PublicKey.byteCount + AEAD.overheadByteCount)
        }
        let requester = try PublicKey(bytes: Array(bytes[2..<(2 + PublicKey.byteCount)]))
        return ReceivedRequest(requester: requester, sealed: Array(bytes[(2 + PublicKey.byteCount)...]))
    }

    public static func open(_ received: ReceivedRequest, keys: PairwiseKeys) throws -> InferRequestBody {
        let plaintext = try AEAD.open(received.sealed, additionalData: requestData(received.requester), key: keys.receiving)
        var reader = WireReader(plaintext)
        let task = TaskID(hash: try ContentHash(bytes: try reader.readFixed(ContentHash.byteCount)))
        let deadline = try reader.readVarint()
        let rows = try reader.readCount(field: "inference rows", limit: InferenceWireLimits.rowsMax)
        let features = try reader.readCount(field: "inference features", limit: InferenceWireLimits.valuesMax)
        guard rows > 0, features > 0, rows * features <= InferenceWireLimits.valuesMax else {
            throw WireError.invalidField("an inference request of \(rows) × \(features) values")
        }
        let values = try readFloats(rows * features, from: &reader)
        try reader.expectEnd()
        return InferRequestBody(task: task, deadlineMillis: deadline, rows: rows, features: features, values: values)
    }

    public static func sealResponse<R: RandomNumberGenerator>(_ response: InferResponseBody, requestNonce: [UInt8],
                                                               keys: PairwiseKeys, using random: inout R) -> [UInt8] {
        var plaintext = WireWriter(capacity: 16)
        switch response {
        case let .scores(version, classes, values):
            plaintext.write(UInt8(0))
            plaintext.writeVarint(version)
            plaintext.writeVarint(classes)
            plaintext.writeVarint(values.count)
            writeFloats(values, to: &plaintext)
        case let .refused(message):
            plaintext.write(UInt8(1))
            plaintext.writeString(String(message.utf8.prefix(InferenceWireLimits.messageBytesMax)) ?? "refused")
        }
        let sealed = AEAD.seal(plaintext.bytes, additionalData: responseData(requestNonce), key: keys.sending, using: &random)
        return [ProtocolVersion.current, UInt8(MessageTag.inferResponse.rawValue)] + sealed
    }

    public static func openResponse(_ bytes: [UInt8], requestNonce: [UInt8], keys: PairwiseKeys) throws -> InferResponseBody {
        guard bytes.count >= 2, ProtocolVersion.supported.contains(bytes[0]), bytes[1] == UInt8(MessageTag.inferResponse.rawValue) else {
            throw WireError.invalidField("not an inference answer")
        }
        let plaintext = try AEAD.open(Array(bytes[2...]), additionalData: responseData(requestNonce), key: keys.receiving)
        var reader = WireReader(plaintext)
        switch try reader.readUInt8() {
        case 0:
            let version = try reader.readVarint()
            let classes = try reader.readCount(field: "inference classes", limit: InferenceWireLimits.classesMax)
            let count = try reader.readCount(field: "inference scores", limit: InferenceWireLimits.valuesMax)
            let values = try readFloats(count, from: &reader)
            try reader.expectEnd()
            guard classes > 0, count % classes == 0 else { throw WireError.invalidField("\(count) scores of \(classes) classes") }
            return .scores(version: version, classes: classes, values: values)
        case 1:
            let message = try reader.readString(field: "inference refusal", limit: InferenceWireLimits.messageBytesMax)
            try reader.expectEnd()
            return .refused(message)
        case let status:
            throw WireError.invalidValue(field: "inference answer status", value: UInt64(status))
        }
    }

    private static func requestData(_ requester: PublicKey) -> [UInt8] {
        var writer = WireWriter(capacity: 72)
        writer.writeBytes(requestContext)
        writer.writeVarint(MessageTag.inferRequest.rawValue)
        writer.writeFixed(requester.bytes)
        return writer.bytes
    }

    private static func responseData(_ nonce: [UInt8]) -> [UInt8] {
        var writer = WireWriter(capacity: 64)
        writer.writeBytes(responseContext)
        writer.writeVarint(MessageTag.inferResponse.rawValue)
        writer.writeBytes(nonce)
        return writer.bytes
    }

    private static func writeFloats(_ values: [Float], to writer: inout WireWriter) {
        for value in values { writer.write(value.bitPattern) }
    }

    private static func readFloats(_ count: Int, from reader: inout WireReader) throws -> [Float] {
        var values = [Float]()
        values.reserveCapacity(count)
        for _ in 0..<count { values.append(Float(bitPattern: try reader.readUInt32())) }
        return values
    }
}
