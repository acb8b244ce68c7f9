/// npz archives (a zip of `.npy` files) and npy arrays, as numpy writes them.
enum NPZ {
    struct Member {
        var name: String
        var method: UInt16
        var compressedSize: Int
        var size: Int
        var crc: UInt32
        var localOffset: Int
    }

    static func u16(_ bytes: [UInt8], _ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
    static func u32(_ bytes: [UInt8], _ at: Int) -> Int { u16(bytes, at) | u16(bytes, at + 2) << 16 }
    static func u64(_ bytes: [UInt8], _ at: Int) -> UInt64 { UInt64(u32(bytes, at)) | UInt64(u32(bytes, at + 4)) << 32 }

    /// The members of a zip archive from its central directory (ZIP64 sizes and offsets understood).
    static func members(_ bytes: [UInt8]) throws(LearningError) -> [Member] {
        guard bytes.count >= 22 else { throw LearningError("npz: \(bytes.count) bytes, too short for a zip archive") }
        var end = -1
        var position = bytes.count - 22
        let lowest = max(0, bytes.count - 22 - 65_535)
        while position >= lowest {
            if bytes[position] == 0x50, bytes[position + 1] == 0x4B, bytes[position + 2] == 5, bytes[position + 3] == 6 { end = position; break }
            position -= 1
        }
        guard end >= 0 else { throw LearningError("npz: no zip end-of-central-directory record") }
        var count = u16(bytes, end + 10)
        var directorySize = u32(bytes, end + 12)
        var directoryOffset = u32(bytes, end + 16)
        if (count == 0xFFFF || directoryOffset == 0xFFFF_FFFF || directorySize == 0xFFFF_FFFF), end >= 20,
           u32(bytes, end - 20) == 0x0706_4B50 {
            let locator = Int(clamping: u64(bytes, end - 12))
            guard locator >= 0, locator + 56 <= bytes.count, u32(bytes, locator) == 0x0606_4B50 else {
                throw LearningError("npz: invalid ZIP64 end record")
            }
            count = Int(clamping: u64(bytes, locator + 32))
            directorySize = Int(clamping: u64(bytes, locator + 40))
            directoryOffset = Int(clamping: u64(bytes, locator + 48))
        }
        guard count <= LearningLimits.npzMembersMax else { throw LearningError("npz: \(count) members, more than \(LearningLimits.npzMembersMax)") }
        guard directoryOffset <= bytes.count, directorySize <= bytes.count - directoryOffset else {
            throw LearningError("npz: the central directory is out of range")
        }
        var members: [Member] = []
        var at = directoryOffset
        for _ in 0..<count {
            guard at + 46 <= bytes.count, u32(bytes, at) == 0x0201_4B50 else { throw LearningError("npz: invalid central directory entry") }
            let flags = u16(bytes, at + 8)
            let method = UInt16(u16(bytes, at + 10))
            let crc = UInt32(u32(bytes, at + 16))
            var compressed = u32(bytes, at + 20)
            var size = u32(bytes, at + 24)
            let nameLength = u16(bytes, at + 28), extraLength = u16(bytes, at + 30), commentLength = u16(bytes, at + 32)
            var local = u32(bytes, at + 42)
            guard at + 46 + nameLength + extraLength + commentLength <= bytes.count else { throw LearningError("npz: central directory entry out of range") }
            let name = String(decoding: bytes[(at + 46)..<(at + 46 + nameLength)], as: UTF8.self)
            guard flags & 1 == 0 else { throw LearningError("npz: member \(name) is encrypted") }
            // ZIP64 extra field: the 0xFFFFFFFF fields, in order size, compressed size, offset.
            var extra = at + 46 + nameLength
            let extraEnd = extra + extraLength
            while extra + 4 <= extraEnd {
                let id = u16(bytes, extra), length = u16(bytes, extra + 2)
                guard extra + 4 + length <= extraEnd else { break }
                if id == 1 {
                    var field = extra + 4
                    func next() -> Int? {
                        guard field + 8 <= extra + 4 + length else { return nil }
                        defer { field += 8 }
                        return Int(clamping: u64(bytes, field))
                    }
                    if size == 0xFFFF_FFFF, let value = next() { size = value }
                    if compressed == 0xFFFF_FFFF, let value = next() { compressed = value }
                    if local == 0xFFFF_FFFF, let value = next() { local = value }
                }
                extra += 4 + length
            }
            members.append(Member(name: name, method: method, compressedSize: compressed, size: size, crc: crc, localOffset: local))
            at = extraEnd + commentLength
        }
        return members
    }

    /// The uncompressed bytes of one member, CRC checked.
    static func contents(of member: Member, in bytes: [UInt8]) throws(LearningError) -> [UInt8] {
        let at = member.localOffset
        guard at >= 0, at + 30 <= bytes.count, u32(bytes, at) == 0x0403_4B50 else {
            throw LearningError("npz: member \(member.name): invalid local header")
        }
        let start = at + 30 + u16(bytes, at + 26) + u16(bytes, at + 28)
        guard member.compressedSize >= 0, start <= bytes.count, member.compressedSize <= bytes.count - start else {
            throw LearningError("npz: member \(member.name): data out of range")
        }
        guard member.size <= LearningLimits.datasetBytesMax else {
            throw LearningError("npz: member \(member.name): \(member.size) bytes exceeds \(LearningLimits.datasetBytesMax)")
        }
        let raw = Array(bytes[start..<(start + member.compressedSize)])
        let data: [UInt8]
        switch member.method {
        case 0:
            guard member.compressedSize == member.size else { throw LearningError("npz: member \(member.name): stored sizes differ") }
            data = raw
        case 8:
            data = member.size == 0 ? [] : try Zlib.inflate(raw, gzip: false, expectedSize: member.size, what: "npz member \(member.name)")
        default:
            throw LearningError("npz: member \(member.name): compression method \(member.method) (only stored and deflate)")
        }
        guard Zlib.crc32(data) == member.crc else { throw LearningError("npz: member \(member.name): CRC mismatch") }
        return data
    }

    static func decode(_ bytes: [UInt8]) throws(LearningError) -> LabeledData {
        let members = try members(bytes)
        func array(_ key: String) throws(LearningError) -> NPYArray {
            guard let member = members.first(where: { $0.name == key + ".npy" || $0.name == key }) else {
                throw LearningError("npz: no array \"\(key)\" (members: \(members.map(\.name).joined(separator: ", ")))")
            }
            return try NPYArray.decode(try contents(of: member, in: bytes), name: key)
        }
        let x = try array("x")
        let y = try array("y")
        guard x.shape.count == 2 else { throw LearningError("npz: x has shape \(x.shape), must be 2-D") }
        guard y.shape.count == 1 else { throw LearningError("npz: y has shape \(y.shape), must be 1-D") }
        guard x.shape[0] == y.shape[0] else { throw LearningError("npz: x has \(x.shape[0]) rows, y \(y.shape[0]) labels") }
        guard !y.kind.isFloat || y.values.allSatisfy({ $0 == $0.rounded() }) else {
            throw LearningError("npz: y holds values that are not whole numbers")
        }
        var labels: [Int32] = []
        labels.reserveCapacity(y.values.count)
        for (index, value) in y.values.enumerated() {
            guard value >= 0, value < Double(LearningLimits.classesMax) else {
                throw LearningError("npz: y[\(index)] is \(value), not a label in 0..<\(LearningLimits.classesMax)")
            }
            labels.append(Int32(value))
        }
        guard x.values.allSatisfy({ $0.isFinite && abs($0) <= Double(Float.greatestFiniteMagnitude) }) else {
            throw LearningError("npz: x holds a value that is not a finite Float")
        }
        return try LabeledData(features: x.values.map(Float.init), labels: labels, featureCount: x.shape[1],
                               classCount: Int(labels.max() ?? 0) + 1)
    }
}

/// One `.npy` array, its values widened to Double.
struct NPYArray {
    enum Kind { case float, signed, unsigned, bool
        var isFloat: Bool { self == .float }
    }
    var shape: [Int]
    var kind: Kind
    var values: [Double]

    static func decode(_ bytes: [UInt8], name: String) throws(LearningError) -> NPYArray {
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else { throw LearningError("npy \(name): no \\x93NUMPY magic") }
        let major = bytes[6]
        let headerLength: Int
        let headerStart: Int
        switch major {
        case 1: headerLength = NPZ.u16(bytes, 8); headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw LearningError("npy \(name): short header") }
            headerLength = NPZ.u32(bytes, 8); headerStart = 12
        default: throw LearningError("npy \(name): format version \(major) (1, 2 and 3 are read)")
        }
        guard headerLength <= bytes.count - headerStart else { throw LearningError("npy \(name): header length \(headerLength) out of range") }
        let header = String(decoding: bytes[headerStart..<(headerStart + headerLength)], as: UTF8.self)
        guard let descr = field("descr", in: header).flatMap(quoted) else { throw LearningError("npy \(name): header has no 'descr'") }
        guard let order = field("fortran_order", in: header) else { throw LearningError("npy \(name): header has no 'fortran_order'") }
        guard order.hasPrefix("False") else { throw LearningError("npy \(name): Fortran order is not read (save C-ordered arrays)") }
        guard let shapeText = field("shape", in: header), shapeText.hasPrefix("(") , let close = shapeText.firstIndex(of: ")") else {
            throw LearningError("npy \(name): header has no 'shape' tuple")
        }
        var shape: [Int] = []
        for part in shapeText[shapeText.index(after: shapeText.startIndex)..<close].split(separator: ",") {
            let trimmed = part.filter { $0 != " " && $0 != "L" }
            if trimmed.isEmpty { continue }
            guard let dim = Int(trimmed), dim >= 0 else { throw LearningError("npy \(name): invalid shape \(shapeText[...close])") }
            shape.append(dim)
        }
        var count = 1
        for dim in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dim)
            guard !overflow, product <= LearningLimits.datasetBytesMax else { throw LearningError("npy \(name): shape \(shape) too large") }
            count = product
        }
        let endian = descr.first ?? "?"
        guard endian == "<" || endian == "|" || endian == "=" else {
            throw LearningError("npy \(name): dtype \(descr) is big endian (only little endian is read)")
        }
        let code = String(descr.dropFirst())
        let kind: Kind
        let width: Int
        switch code {
        case "f4": kind = .float; width = 4
        case "f8": kind = .float; width = 8
        case "f2": kind = .float; width = 2
        case "i1", "i2", "i4", "i8": kind = .signed; width = Int(String(code.dropFirst()))!
        case "u1", "u2", "u4", "u8": kind = .unsigned; width = Int(String(code.dropFirst()))!
        case "b1": kind = .bool; width = 1
        default: throw LearningError("npy \(name): dtype \(descr) is not read (float16/32/64, integers, bool)")
        }
        let dataStart = headerStart + headerLength
        guard bytes.count - dataStart == count * width else {
            throw LearningError("npy \(name): \(bytes.count - dataStart) data bytes, shape \(shape) of \(descr) needs \(count * width)")
        }
        var values = [Double](repeating: 0, count: count)
        bytes.withUnsafeBytes { raw in
            let base = UnsafeRawBufferPointer(rebasing: raw[dataStart...])
            for index in 0..<count {
                let at = index * width
                switch (kind, width) {
                case (.float, 4): values[index] = Double(Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: at, as: UInt32.self))))
                case (.float, 8): values[index] = Double(bitPattern: UInt64(littleEndian: base.loadUnaligned(fromByteOffset: at, as: UInt64.self)))
                case (.float, _): values[index] = Double(HalfFloat.float(fromHalf: UInt16(littleEndian: base.loadUnaligned(fromByteOffset: at, as: UInt16.self))))
                case (.signed, 1): values[index] = Double(Int8(bitPattern: base[at]))
                case (.signed, 2): values[index] = Double(Int16(littleEndian: base.loadUnaligned(fromByteOffset: at, as: Int16.self)))
                case (.signed, 4): values[index] = Double(Int32(littleEndian: base.loadUnaligned(fromByteOffset: at, as: Int32.self)))
                case (.signed, _): values[index] = Double(Int64(littleEndian: base.loadUnaligned(fromByteOffset: at, as: Int64.self)))
                case (.unsigned, 1), (.bool, _): values[index] = Double(base[at])
                case (.unsigned, 2): values[index] = Double(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: at, as: UInt16.self)))
                case (.unsigned, 4): values[index] = Double(UInt32(littleEndian: base.loadUnaligned(fromByteOffset: at, as: UInt32.self)))
                case (.unsigned, _): values[index] = Double(UInt64(littleEndian: base.loadUnaligned(fromByteOffset: at, as: UInt64.self)))
                }
            }
        }
        return NPYArray(shape: shape, kind: kind, values: values)
    }

    /// The text after `'key':` in a Python dict literal, trimmed.
    static func field(_ key: String, in header: String) -> Substring? {
        for quote in ["'", "\""] {
            if let range = header.firstRange(of: quote + key + quote) {
                var rest = header[range.upperBound...].drop { $0 == " " }
                guard rest.first == ":" else { continue }
                rest = rest.dropFirst().drop { $0 == " " }
                return rest
            }
        }
        return nil
    }

    static func quoted(_ text: Substring) -> String? {
        guard let quote = text.first, quote == "'" || quote == "\"" else { return nil }
        let rest = text.dropFirst()
        guard let end = rest.firstIndex(of: quote) else { return nil }
        return String(rest[..<end])
    }
}
