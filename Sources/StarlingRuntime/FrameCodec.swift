/// The framing of every TCP request and response: a 4-byte big-endian body length, then the body.
///
/// The machine's bytes are opaque here: `sendRequest`/`sendReply` give a body, the runtime adds the
/// prefix; a received frame is handed over without it.
enum FrameCodec {
    static let prefixBytes = 4

    static func prefix(forBodyOf count: Int) -> [UInt8] {
        precondition(count >= 0 && count <= Int(UInt32.max))
        let length = UInt32(count)
        return [UInt8(length >> 24), UInt8(length >> 16 & 0xff), UInt8(length >> 8 & 0xff), UInt8(length & 0xff)]
    }
}

/// Accumulates stream bytes until one whole frame has arrived.
struct FrameDecoder {
    enum Failure: Error, Equatable {
        /// The length prefix announced a body over the limit.
        case tooLarge(UInt32)
    }

    let bodyBytesMax: Int
    private var buffer: [UInt8] = []
    private var bodyLength: Int?

    init(bodyBytesMax: Int = RuntimeLimits.frameBytesMax) { self.bodyBytesMax = bodyBytesMax }

    /// Bytes held, waiting for the rest of the frame.
    var bufferedCount: Int { buffer.count }

    /// Adds received bytes; returns the body once it is complete. Bytes after the frame are
    /// ignored: each connection carries exactly one frame each way. A prefix over the limit fails
    /// as soon as its four bytes are in, before any of the body is kept.
    mutating func append(_ bytes: [UInt8]) throws(Failure) -> [UInt8]? {
        buffer.append(contentsOf: bytes)
        if bodyLength == nil, buffer.count >= FrameCodec.prefixBytes {
            let length = buffer.prefix(FrameCodec.prefixBytes).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            guard Int(length) <= bodyBytesMax else { throw .tooLarge(length) }
            bodyLength = Int(length)
        }
        guard let bodyLength, buffer.count >= FrameCodec.prefixBytes + bodyLength else { return nil }
        let body = Array(buffer[FrameCodec.prefixBytes..<(FrameCodec.prefixBytes + bodyLength)])
        buffer = []
        return body
    }
}
