import StarlingCrypto
import StarlingWire

/// Blob requests and responses as stream messages, sealed with the pairwise keys of the two peers.
///
///     request:  version tag(17|19) requester(32) AEAD(id [index])
///               associated data: context, tag, requester
///     response: version tag(18|20) AEAD(status [manifest bytes | chunk bytes])
///               associated data: context, tag, blob id, chunk index, the request's nonce
///
/// The requester names itself so the server can derive the pair's keys (X25519 of both
/// identities) and open the request; only the holder of that identity could have sealed it. The
/// response binds what was asked and the request's random nonce, so it cannot be replayed as the
/// answer to another chunk, another blob or another request. What is asked and what comes back are
/// both encrypted.
public enum BlobSealing {
    static let requestContext = Array("starling/blob-request/v1".utf8)
    static let responseContext = Array("starling/blob-response/v1".utf8)

    /// A request's bytes, and the nonce its response must be bound to.
    public struct SealedRequest: Sendable {
        public let bytes: [UInt8]
        public let nonce: [UInt8]
    }

    /// A request as received, before it is opened.
    public struct ReceivedRequest: Sendable {
        public let tag: MessageTag
        public let requester: PublicKey
        let sealed: [UInt8]
        /// The nonce the response is bound to.
        public var nonce: [UInt8] { Array(sealed.prefix(AEAD.nonceByteCount)) }
    }

    /// Whether stream-message bytes carry a blob request (version, then tag 17 or 19). Frames of
    /// other kinds start with a 4-byte length whose first byte is 0, never a supported version.
    public static func isBlobRequest(_ bytes: [UInt8]) -> Bool {
        guard bytes.count >= 2, ProtocolVersion.supported.contains(bytes[0]) else { return false }
        return bytes[1] == UInt8(MessageTag.blobManifestRequest.rawValue)
            || bytes[1] == UInt8(MessageTag.blobChunkRequest.rawValue)
    }

    /// Seals `request` from `requester` with `keys` (the requester's pairwise keys with the server).
    public static func sealRequest<R: RandomNumberGenerator>(
        _ request: BlobRequest, requester: PublicKey, keys: PairwiseKeys, using random: inout R
    ) -> SealedRequest {
        var plaintext = WireWriter(capacity: 40)
        request.encodePlaintext(to: &plaintext)
        let sealed = AEAD.seal(plaintext.bytes, additionalData: requestData(request.tag, requester),
                               key: keys.sending, using: &random)
        var body = WireWriter(capacity: sealed.count + 32)
        body.writeFixed(requester.bytes)
        body.writeFixed(sealed)
        let bytes = try! Envelope(tag: request.tag, body: body.bytes).streamMessage()  // tiny: fits
        return SealedRequest(bytes: bytes, nonce: Array(sealed.prefix(AEAD.nonceByteCount)))
    }

    /// Reads who sent a request, without opening it.
    public static func receive(_ bytes: [UInt8]) throws -> ReceivedRequest {
        let envelope = try Envelope(streamMessage: bytes)
        guard envelope.tag == .blobManifestRequest || envelope.tag == .blobChunkRequest else {
            throw WireError.invalidField("tag \(envelope.tag) is not a blob request")
        }
        var reader = WireReader(envelope.body)
        let requester = try PublicKey(bytes: reader.readFixed(PublicKey.byteCount))
        let sealed = try reader.readFixed(reader.remaining)
        guard sealed.count >= AEAD.overheadByteCount else { throw WireError.truncated(offset: 32, needed: AEAD.overheadByteCount) }
        return ReceivedRequest(tag: envelope.tag, requester: requester, sealed: sealed)
    }

    /// Opens a received request with the server's pairwise keys for its requester.
    public static func open(_ received: ReceivedRequest, keys: PairwiseKeys) throws -> BlobRequest {
        let plaintext = try AEAD.open(received.sealed, additionalData: requestData(received.tag, received.requester),
                                      key: keys.receiving)
        return try BlobRequest.decodePlaintext(plaintext, tag: received.tag)
    }

    /// Seals the answer to `request` (whose nonce was `requestNonce`) with the server's keys.
    public static func sealResponse<R: RandomNumberGenerator>(
        _ response: BlobResponse, to request: BlobRequest, requestNonce: [UInt8], keys: PairwiseKeys,
        using random: inout R
    ) -> [UInt8] {
        let sealed = AEAD.seal(response.encodePlaintext(), additionalData: responseData(request, requestNonce),
                               key: keys.sending, using: &random)
        var out = [UInt8]()
        out.reserveCapacity(sealed.count + 2)
        out.append(ProtocolVersion.current)
        out.append(UInt8(request.responseTag.rawValue))
        out.append(contentsOf: sealed)
        return out
    }

    /// Opens the answer to `request` with the requester's keys; fails unless it was sealed by the
    /// server for exactly this request.
    public static func openResponse(
        _ bytes: [UInt8], to request: BlobRequest, requestNonce: [UInt8], keys: PairwiseKeys
    ) throws -> BlobResponse {
        let envelope = try Envelope(streamMessage: bytes)
        guard envelope.tag == request.responseTag else {
            throw WireError.invalidField("expected a \(request.responseTag) answer, got \(envelope.tag)")
        }
        let plaintext = try AEAD.open(envelope.body, additionalData: responseData(request, requestNonce),
                                      key: keys.receiving)
        return try BlobResponse.decodePlaintext(plaintext, for: request)
    }

    private static func requestData(_ tag: MessageTag, _ requester: PublicKey) -> [UInt8] {
        var writer = WireWriter(capacity: 64)
        writer.writeBytes(requestContext)
        writer.writeVarint(tag.rawValue)
        writer.writeFixed(requester.bytes)
        return writer.bytes
    }

    private static func responseData(_ request: BlobRequest, _ requestNonce: [UInt8]) -> [UInt8] {
        var writer = WireWriter(capacity: 96)
        writer.writeBytes(responseContext)
        writer.writeVarint(request.responseTag.rawValue)
        writer.writeFixed(request.blobID.bytes)
        writer.write(request.boundIndex)
        writer.writeBytes(requestNonce)
        return writer.bytes
    }
}
