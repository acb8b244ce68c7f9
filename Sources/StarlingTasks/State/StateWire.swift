import StarlingCrypto
import StarlingWire

/// Encoding helpers of the task state. A content hash has a fixed length, so it is written without a
/// length prefix (as keys and signatures are).
extension WireWriter {
    mutating func writeHash(_ hash: ContentHash) { writeFixed(hash.bytes) }
}

extension WireReader {
    mutating func readHash() throws -> ContentHash {
        try ContentHash(bytes: readFixed(ContentHash.byteCount))
    }

    /// A non-zero count, epoch or round (the first one is 1).
    mutating func readPositive(_ field: String, max: UInt64 = .max) throws -> UInt64 {
        let value = try readVarint()
        guard value >= 1, value <= max else { throw WireError.invalidValue(field: field, value: value) }
        return value
    }

    /// Text that may be empty but has no control characters (messages, reasons).
    mutating func readMessage(_ field: String) throws -> String {
        let text = try readString(field: field, limit: TaskStateLimits.messageBytesMax)
        guard ScalarText.isPrintable(text) else { throw WireError.invalidField("\(field) has control characters") }
        return text
    }
}

/// Model hashes are 32 bytes; "no model yet" (a task that has committed nothing) is 32 zero bytes,
/// so every place that names a model has one fixed-size encoding.
public enum ModelHash {
    public static let none: ContentHash = {
        // 32 bytes always make a content hash.
        guard let zero = try? ContentHash(bytes: [UInt8](repeating: 0, count: ContentHash.byteCount)) else {
            preconditionFailure("a 32-byte content hash")
        }
        return zero
    }()
}
