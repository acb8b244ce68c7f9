import CZlib

/// zlib through CZlib: gzip and raw deflate streams, bounded output.
enum Zlib {
    /// Inflates a gzip stream (`gzip: true`, concatenated members allowed) or a raw deflate stream.
    /// `expectedSize`, when known, sizes the output at once and must match exactly.
    static func inflate(_ input: [UInt8], gzip: Bool, expectedSize: Int? = nil, limit: Int = LearningLimits.datasetBytesMax, what: String) throws(LearningError) -> [UInt8] {
        guard !input.isEmpty else { throw LearningError("\(what): no compressed data") }
        if let expectedSize, expectedSize > limit { throw LearningError("\(what): \(expectedSize) bytes uncompressed exceeds \(limit)") }
        var stream = z_stream()
        let windowBits: Int32 = gzip ? 15 + 32 : -15  // 32: detect gzip or zlib header
        guard inflateInit2_(&stream, windowBits, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw LearningError("\(what): zlib could not start")
        }
        defer { inflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: max(expectedSize ?? input.count * 4, 64))
        var produced = 0
        var consumed = 0
        var status: Int32 = Z_OK
        while true {
            if produced == output.count {
                guard output.count < limit else { throw LearningError("\(what): more than \(limit) bytes uncompressed") }
                if expectedSize != nil { throw LearningError("\(what): more data than the \(output.count) bytes announced") }
                output.append(contentsOf: [UInt8](repeating: 0, count: min(output.count, limit - output.count)))
            }
            (status, consumed, produced) = input.withUnsafeBufferPointer { source in
                output.withUnsafeMutableBufferPointer { target in
                    stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress! + consumed)
                    stream.avail_in = UInt32(min(source.count - consumed, Int(UInt32.max)))
                    stream.next_out = target.baseAddress! + produced
                    stream.avail_out = UInt32(min(target.count - produced, Int(UInt32.max)))
                    let inBefore = Int(stream.avail_in), outBefore = Int(stream.avail_out)
                    let code = CZlib.inflate(&stream, Z_NO_FLUSH)
                    return (code, consumed + inBefore - Int(stream.avail_in), produced + outBefore - Int(stream.avail_out))
                }
            }
            if status == Z_STREAM_END {
                // Another gzip member may follow.
                if gzip && consumed < input.count && input[consumed] == 0x1F {
                    guard inflateReset(&stream) == Z_OK else { throw LearningError("\(what): zlib could not continue") }
                    continue
                }
                break
            }
            guard status == Z_OK || (status == Z_BUF_ERROR && produced == output.count) else {
                if status == Z_BUF_ERROR { throw LearningError("\(what): the compressed data ends early") }
                throw LearningError("\(what): invalid compressed data (zlib \(status))")
            }
        }
        guard consumed == input.count || !gzip else { throw LearningError("\(what): \(input.count - consumed) bytes after the compressed data") }
        if let expectedSize, produced != expectedSize {
            throw LearningError("\(what): \(produced) bytes uncompressed, \(expectedSize) announced")
        }
        output.removeSubrange(produced...)
        return output
    }

    /// Raw deflate (no header) or gzip, level 6. For tests and tools.
    static func deflate(_ input: [UInt8], gzip: Bool) -> [UInt8] {
        var stream = z_stream()
        let status = deflateInit2_(&stream, 6, Z_DEFLATED, gzip ? 31 : -15, 8, Z_DEFAULT_STRATEGY, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        precondition(status == Z_OK, "zlib deflateInit2 failed")
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(input.count))) + 32)
        let produced = input.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress ?? UnsafePointer(target.baseAddress!))
                stream.avail_in = UInt32(source.count)
                stream.next_out = target.baseAddress!
                stream.avail_out = UInt32(target.count)
                let code = CZlib.deflate(&stream, Z_FINISH)
                precondition(code == Z_STREAM_END, "zlib deflate did not finish")
                return target.count - Int(stream.avail_out)
            }
        }
        return Array(output.prefix(produced))
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBufferPointer { buffer in
            UInt32(truncatingIfNeeded: CZlib.crc32(0, buffer.baseAddress, UInt32(buffer.count)))
        }
    }
}
