/// The safetensors format (https://huggingface.co/docs/safetensors): an 8-byte little-endian header
/// length N, N bytes of JSON header, then the tensor bytes.
public enum SafeTensors {
    /// Element types read by `decode`. Every one is converted to Float (I64/U64 and F64 may round).
    public static let acceptedDTypes = ["F64", "F32", "F16", "BF16", "I64", "I32", "I16", "I8", "U64", "U32", "U16", "U8", "BOOL"]

    static func byteWidth(_ dtype: String) -> Int? {
        switch dtype {
        case "F64", "I64", "U64": return 8
        case "F32", "I32", "U32": return 4
        case "F16", "BF16", "I16", "U16": return 2
        case "I8", "U8", "BOOL": return 1
        default: return nil
        }
    }

    /// F32 little endian; deterministic: header keys sorted (`__metadata__` first when present), no
    /// spaces, tensors stored in name order, header padded with spaces so the data starts at a
    /// multiple of 8.
    public static func encode(_ model: ModelWeights) -> [UInt8] {
        var header: [UInt8] = [UInt8(ascii: "{")]
        var first = true
        if !model.metadata.isEmpty {
            header.append(contentsOf: Array("\"__metadata__\":{".utf8))
            let entries = model.metadata.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            for (index, entry) in entries.enumerated() {
                if index > 0 { header.append(UInt8(ascii: ",")) }
                JSONWriter.appendString(entry.key, to: &header)
                header.append(UInt8(ascii: ":"))
                JSONWriter.appendString(entry.value, to: &header)
            }
            header.append(UInt8(ascii: "}"))
            first = false
        }
        var offset = 0
        for tensor in model.tensors {
            if !first { header.append(UInt8(ascii: ",")) }
            first = false
            JSONWriter.appendString(tensor.name, to: &header)
            let end = offset + tensor.values.count * 4
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            header.append(contentsOf: Array(":{\"data_offsets\":[\(offset),\(end)],\"dtype\":\"F32\",\"shape\":[\(shape)]}".utf8))
            offset = end
        }
        header.append(UInt8(ascii: "}"))
        while header.count % 8 != 0 { header.append(0x20) }
        var out: [UInt8] = []
        out.reserveCapacity(8 + header.count + offset)
        var length = UInt64(header.count)
        for _ in 0..<8 { out.append(UInt8(truncatingIfNeeded: length)); length >>= 8 }
        out.append(contentsOf: header)
        for tensor in model.tensors {
            appendLittleEndian(tensor.values, to: &out)
        }
        return out
    }

    static func appendLittleEndian(_ values: [Float], to out: inout [UInt8]) {
        #if _endian(little)
        values.withUnsafeBytes { out.append(contentsOf: $0) }
        #else
        for value in values {
            var bits = value.bitPattern
            for _ in 0..<4 { out.append(UInt8(truncatingIfNeeded: bits)); bits >>= 8 }
        }
        #endif
    }

    /// Reads a safetensors file. Refuses (naming the problem) a short or oversized header length,
    /// invalid JSON, an entry that is not a tensor, an unknown dtype, a shape that does not match its
    /// byte count, offsets out of range, overlapping, leaving a gap or leaving bytes unused (the
    /// format requires the data to be covered exactly), and anything beyond `LearningLimits`.
    public static func decode(_ bytes: [UInt8]) throws(LearningError) -> ModelWeights {
        guard bytes.count <= LearningLimits.modelBytesMax else {
            throw LearningError("safetensors: \(bytes.count) bytes exceeds \(LearningLimits.modelBytesMax)")
        }
        guard bytes.count >= 8 else { throw LearningError("safetensors: \(bytes.count) bytes, too short for the 8-byte header length") }
        var headerLength: UInt64 = 0
        for index in (0..<8).reversed() { headerLength = headerLength << 8 | UInt64(bytes[index]) }
        guard headerLength <= UInt64(LearningLimits.headerBytesMax) else {
            throw LearningError("safetensors: header length \(headerLength) exceeds \(LearningLimits.headerBytesMax)")
        }
        guard headerLength >= 2, headerLength <= UInt64(bytes.count - 8) else {
            throw LearningError("safetensors: header length \(headerLength) does not fit in \(bytes.count - 8) bytes after it")
        }
        let dataStart = 8 + Int(headerLength)
        let headerBytes = Array(bytes[8..<dataStart])
        guard headerBytes.first == UInt8(ascii: "{") else { throw LearningError("safetensors: the header does not start with '{'") }
        guard case let .object(entries) = try JSONReader.parse(headerBytes) else {
            throw LearningError("safetensors: the header is not a JSON object")
        }
        guard entries.count <= LearningLimits.tensorsMax + 1 else {
            throw LearningError("safetensors: \(entries.count) header entries, more than \(LearningLimits.tensorsMax) tensors")
        }
        let dataLength = bytes.count - dataStart
        var metadata: [String: String] = [:]
        var spans: [(name: String, dtype: String, shape: [Int], begin: Int, end: Int)] = []
        for (key, value) in entries {
            if key == "__metadata__" {
                guard case let .object(items) = value else { throw LearningError("safetensors: __metadata__ is \(value.kindName), not an object") }
                for (metaKey, metaValue) in items {
                    guard case let .string(text) = metaValue else {
                        throw LearningError("safetensors: __metadata__ entry \(metaKey.prefix(60)) is \(metaValue.kindName), not a string")
                    }
                    metadata[metaKey] = text
                }
                continue
            }
            try Tensor.check(name: key)
            guard case let .object(fields) = value else { throw LearningError("safetensors: entry \(key) is \(value.kindName), not an object") }
            var dtype: String?
            var shape: [Int]?
            var offsets: [Int]?
            for (field, fieldValue) in fields {
                switch field {
                case "dtype":
                    guard case let .string(text) = fieldValue else { throw LearningError("safetensors: tensor \(key): dtype is not a string") }
                    dtype = text
                case "shape":
                    guard case let .array(items) = fieldValue else { throw LearningError("safetensors: tensor \(key): shape is not an array") }
                    var dims: [Int] = []
                    for item in items {
                        guard let dim = item.nonNegativeInteger else { throw LearningError("safetensors: tensor \(key): shape holds a value that is not a non-negative integer") }
                        dims.append(dim)
                    }
                    shape = dims
                case "data_offsets":
                    guard case let .array(items) = fieldValue, items.count == 2,
                          let begin = items[0].nonNegativeInteger, let end = items[1].nonNegativeInteger else {
                        throw LearningError("safetensors: tensor \(key): data_offsets is not two non-negative integers")
                    }
                    offsets = [begin, end]
                default:
                    throw LearningError("safetensors: tensor \(key): unknown field \(field.prefix(60))")
                }
            }
            guard let dtype else { throw LearningError("safetensors: tensor \(key) has no dtype") }
            guard let shape else { throw LearningError("safetensors: tensor \(key) has no shape") }
            guard let offsets else { throw LearningError("safetensors: tensor \(key) has no data_offsets") }
            guard let width = byteWidth(dtype) else {
                throw LearningError("safetensors: tensor \(key) has dtype \(dtype.prefix(20)); accepted: \(acceptedDTypes.joined(separator: ", "))")
            }
            let count = try Tensor.elementCount(shape, name: key)
            guard offsets[0] <= offsets[1] else {
                throw LearningError("safetensors: tensor \(key): data_offsets [\(offsets[0]), \(offsets[1])] end before they begin")
            }
            guard offsets[1] <= dataLength else {
                throw LearningError("safetensors: tensor \(key): data_offsets [\(offsets[0]), \(offsets[1])] are out of range of the \(dataLength) data bytes")
            }
            guard offsets[1] - offsets[0] == count * width else {
                throw LearningError("safetensors: tensor \(key): data_offsets [\(offsets[0]), \(offsets[1])] hold \(offsets[1] - offsets[0]) bytes, shape \(shape) of \(dtype) needs \(count * width)")
            }
            spans.append((key, dtype, shape, offsets[0], offsets[1]))
        }
        // The byte buffer must be covered exactly: no overlap, no gap, nothing left over.
        let ordered = spans.sorted { ($0.begin, $0.end) < ($1.begin, $1.end) }
        var position = 0
        for span in ordered {
            if span.begin < position {
                throw LearningError("safetensors: tensor \(span.name): data_offsets [\(span.begin), \(span.end)] overlap another tensor")
            }
            if span.begin > position {
                throw LearningError("safetensors: tensor \(span.name): data_offsets [\(span.begin), \(span.end)] leave a gap of \(span.begin - position) bytes")
            }
            position = span.end
        }
        guard position == dataLength else {
            throw LearningError("safetensors: the tensors cover \(position) of the \(dataLength) data bytes")
        }
        var tensors: [Tensor] = []
        tensors.reserveCapacity(spans.count)
        for span in spans {
            let values = convert(bytes, from: dataStart + span.begin, count: (span.end - span.begin) / byteWidth(span.dtype)!, dtype: span.dtype)
            tensors.append(try Tensor(name: span.name, shape: span.shape, values: values))
        }
        return try ModelWeights(tensors: tensors, metadata: metadata)
    }

    /// Decodes, and refuses a file holding a NaN or an infinity, naming the tensor and index. An
    /// aggregator given the result may skip its own scan (`RoundAggregator.add(..., valuesChecked:
    /// true)`): the values are checked once, where they arrive.
    public static func decode(_ bytes: [UInt8], requireFinite: Bool) throws(LearningError) -> ModelWeights {
        let model = try decode(bytes)
        guard requireFinite else { return model }
        for tensor in model.tensors {
            if let index = VectorMath.firstNonFinite(tensor.values) {
                throw LearningError("tensor \(tensor.name) holds \(tensor.values[index]) at index \(index)")
            }
        }
        return model
    }

    static func convert(_ bytes: [UInt8], from start: Int, count: Int, dtype: String) -> [Float] {
        bytes.withUnsafeBytes { raw in
            let base = UnsafeRawBufferPointer(rebasing: raw[start..<(start + count * byteWidth(dtype)!)])
            switch dtype {
            case "F32":
                #if _endian(little)
                return VectorMath.makeFloats(count: count) { out in
                    UnsafeMutableRawBufferPointer(out).copyMemory(from: base)
                }
                #else
                return (0..<count).map { Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
                #endif
            case "F64": return (0..<count).map { Float(Double(bitPattern: UInt64(littleEndian: base.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self)))) }
            case "F16": return (0..<count).map { HalfFloat.float(fromHalf: UInt16(littleEndian: base.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self))) }
            case "BF16": return (0..<count).map { Float(bitPattern: UInt32(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self))) << 16) }
            case "I64": return (0..<count).map { Float(Int64(littleEndian: base.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self))) }
            case "U64": return (0..<count).map { Float(UInt64(littleEndian: base.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self))) }
            case "I32": return (0..<count).map { Float(Int32(littleEndian: base.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self))) }
            case "U32": return (0..<count).map { Float(UInt32(littleEndian: base.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
            case "I16": return (0..<count).map { Float(Int16(littleEndian: base.loadUnaligned(fromByteOffset: $0 * 2, as: Int16.self))) }
            case "U16": return (0..<count).map { Float(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self))) }
            case "I8": return (0..<count).map { Float(Int8(bitPattern: base[$0])) }
            case "BOOL": return (0..<count).map { base[$0] == 0 ? 0 : 1 }
            default: return (0..<count).map { Float(base[$0]) }  // U8
            }
        }
    }
}

/// IEEE 754 binary16 to Float, without relying on the platform's Float16.
enum HalfFloat {
    static func float(fromHalf bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let exponent = UInt32(bits >> 10) & 0x1F
        let mantissa = UInt32(bits & 0x3FF)
        if exponent == 0x1F { return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13) }
        if exponent == 0 {
            // Zero or subnormal: mantissa × 2^-24.
            let magnitude = Float(mantissa) * (1.0 / 16_777_216.0)
            return sign == 0 ? magnitude : -magnitude
        }
        return Float(bitPattern: sign | (exponent + 112) << 23 | mantissa << 13)
    }
}
