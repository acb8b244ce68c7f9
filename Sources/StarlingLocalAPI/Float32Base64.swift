import Foundation

/// Float arrays on an inference worker's connection as base64 of their little-endian float32
/// bytes (`data_f32`, `scores_f32`; docs/workers.md, "Inference workers"): a batch written and read
/// as numbers in JSON cost a worker half its CPU in decoding alone; as bytes it is a copy.
public enum Float32Base64 {
    public static func encode(_ values: [Float]) -> String {
        var bytes = [UInt8]()
        bytes.reserveCapacity(values.count * 4)
        for value in values {
            let bits = value.bitPattern.littleEndian
            bytes.append(UInt8(truncatingIfNeeded: bits))
            bytes.append(UInt8(truncatingIfNeeded: bits >> 8))
            bytes.append(UInt8(truncatingIfNeeded: bits >> 16))
            bytes.append(UInt8(truncatingIfNeeded: bits >> 24))
        }
        return Data(bytes).base64EncodedString()
    }

    /// nil for text that is not base64 of a whole number of float32 values.
    public static func decode(_ text: String) -> [Float]? {
        guard let data = Data(base64Encoded: text), data.count % 4 == 0 else { return nil }
        let bytes = [UInt8](data)
        var values = [Float]()
        values.reserveCapacity(bytes.count / 4)
        var index = 0
        while index < bytes.count {
            let bits = UInt32(bytes[index]) | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2]) << 16
                | UInt32(bytes[index + 3]) << 24
            values.append(Float(bitPattern: bits))
            index += 4
        }
        return values
    }
}
