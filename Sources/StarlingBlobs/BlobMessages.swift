import StarlingCrypto
import StarlingWire

/// What one peer asks another about a blob: its manifest, or one of its chunks.
public enum BlobRequest: Equatable, Hashable, Sendable {
    case manifest(ContentHash)
    case chunk(ContentHash, index: UInt32)

    public var blobID: ContentHash {
        switch self {
        case let .manifest(id), let .chunk(id, _): return id
        }
    }

    /// The envelope tag of the request and of its response.
    public var tag: MessageTag {
        switch self {
        case .manifest: return .blobManifestRequest
        case .chunk: return .blobChunkRequest
        }
    }

    public var responseTag: MessageTag {
        switch self {
        case .manifest: return .blobManifestResponse
        case .chunk: return .blobChunkResponse
        }
    }

    /// The chunk index bound into the response's associated data (the manifest uses all ones).
    var boundIndex: UInt32 {
        switch self {
        case .manifest: return .max
        case let .chunk(_, index): return index
        }
    }

    func encodePlaintext(to writer: inout WireWriter) {
        writer.writeFixed(blobID.bytes)
        if case let .chunk(_, index) = self { writer.write(index) }
    }

    static func decodePlaintext(_ bytes: [UInt8], tag: MessageTag) throws -> BlobRequest {
        var reader = WireReader(bytes)
        let id = try ContentHash(bytes: reader.readFixed(ContentHash.byteCount))
        let request: BlobRequest
        switch tag {
        case .blobManifestRequest: request = .manifest(id)
        case .blobChunkRequest: request = .chunk(id, index: try reader.readUInt32())
        default: throw WireError.invalidField("tag \(tag) is not a blob request")
        }
        try reader.expectEnd()
        return request
    }
}

/// The answer to a `BlobRequest`.
public enum BlobResponse: Equatable, Sendable {
    /// The manifest, as its canonical bytes (the asker checks they hash to the blob id).
    case manifest([UInt8])
    /// The chunk's bytes (the asker checks them against the manifest).
    case chunk([UInt8])
    /// The answering peer does not hold it (yet): ask someone else.
    case notHeld
    /// The answering peer holds it but is sending as much as it may right now: ask again later.
    case busy

    enum Status: UInt8 { case data = 0, notHeld = 1, busy = 2 }

    func encodePlaintext() -> [UInt8] {
        switch self {
        case let .manifest(bytes), let .chunk(bytes):
            var out = [UInt8]()
            out.reserveCapacity(bytes.count + 1)
            out.append(Status.data.rawValue)
            out.append(contentsOf: bytes)
            return out
        case .notHeld: return [Status.notHeld.rawValue]
        case .busy: return [Status.busy.rawValue]
        }
    }

    static func decodePlaintext(_ bytes: [UInt8], for request: BlobRequest) throws -> BlobResponse {
        guard let first = bytes.first else { throw WireError.truncated(offset: 0, needed: 1) }
        guard let status = Status(rawValue: first) else { throw WireError.invalidValue(field: "blob response status", value: UInt64(first)) }
        switch status {
        case .notHeld, .busy:
            guard bytes.count == 1 else { throw WireError.trailingBytes(count: bytes.count - 1) }
            return status == .busy ? .busy : .notHeld
        case .data:
            let payload = Array(bytes[1...])
            switch request {
            case .manifest: return .manifest(payload)
            case .chunk: return .chunk(payload)
            }
        }
    }
}
