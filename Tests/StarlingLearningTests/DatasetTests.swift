@testable import StarlingLearning
import Testing

func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
func le32(_ v: Int) -> [UInt8] { le16(v & 0xFFFF) + le16(v >> 16 & 0xFFFF) }

/// An .npy file (format 1.0) as numpy writes it: header padded with spaces to a multiple of 64.
func npy(descr: String, shape: [Int], data: [UInt8], version: UInt8 = 1) -> [UInt8] {
    let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
    var header = Array("{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }".utf8)
    let prefix = version == 1 ? 10 : 12
    while (prefix + header.count + 1) % 64 != 0 { header.append(0x20) }
    header.append(0x0A)
    let length = version == 1 ? le16(header.count) : le32(header.count)
    return [0x93] + Array("NUMPY".utf8) + [version, 0] + length + header + data
}

/// A zip archive as python's zipfile writes numpy's npz: local headers with a ZIP64 extra field
/// (numpy uses force_zip64), real sizes in the central directory.
func zip(_ members: [(String, [UInt8])], deflate: Bool) -> [UInt8] {
    var out: [UInt8] = []
    var central: [UInt8] = []
    for (name, content) in members {
        let stored = deflate ? Zlib.deflate(content, gzip: false) : content
        let crc = Int(Zlib.crc32(content))
        let method = deflate ? 8 : 0
        let offset = out.count
        let zip64Extra = le16(1) + le16(16) + le32(content.count) + le32(0) + le32(stored.count) + le32(0)
        out += le32(0x0403_4B50) + le16(45) + le16(0) + le16(method) + le16(0) + le16(0x21) + le32(crc)
            + le32(0xFFFF_FFFF) + le32(0xFFFF_FFFF) + le16(name.utf8.count) + le16(zip64Extra.count) + Array(name.utf8) + zip64Extra + stored
        central += le32(0x0201_4B50) + le16(45) + le16(45) + le16(0) + le16(method) + le16(0) + le16(0x21) + le32(crc)
            + le32(stored.count) + le32(content.count) + le16(name.utf8.count) + le16(0) + le16(0) + le16(0) + le16(0) + le32(0) + le32(offset) + Array(name.utf8)
    }
    let directoryOffset = out.count
    out += central
    out += le32(0x0605_4B50) + le16(0) + le16(0) + le16(members.count) + le16(members.count) + le32(central.count) + le32(directoryOffset) + le16(0)
    return out
}

@Suite("data sets")
struct DatasetTests {
    @Test("CSV: header detected, label last, blank lines and CRLF accepted; encodeCSV round-trips")
    func csv() throws {
        let text = "a,b,label\r\n0.5,1,2\r\n\n-1,2e-3,0\n"
        let data = try DatasetFile.decode(Array(text.utf8), format: .csv)
        #expect(data.features == [0.5, 1, -1, 0.002])
        #expect(data.labels == [2, 0])
        #expect(data.featureCount == 2 && data.classCount == 3 && data.count == 2)
        #expect(try DatasetFile.decode(DatasetFile.encodeCSV(data), format: .csv) == data)
    }

    @Test("CSV errors name the line", arguments: [
        ("1,2,0\n3,x,1\n", "CSV line 2: field 2 \"x\" is not a finite number"),
        ("1,2,0\n3,1\n", "CSV line 2 has 2 fields, line 1 has 3"),
        ("1,2,0.5\n", "CSV line 1: label 0.5 is not a whole number"),
        ("1,2,-1\n", "CSV line 1: label -1.0 is not a whole number"),
        ("h1,h2\n", "CSV: no data rows"),
        ("5\n", "CSV line 1: at least one feature and a label are needed"),
    ])
    func csvErrors(text: String, message: String) {
        #expect {
            try DatasetFile.decode(Array(text.utf8), format: .csv)
        } throws: { error in
            (error as? LearningError)?.description.hasPrefix(message) == true
        }
    }

    @Test("npz with stored and with deflated members, float32/float64 x, int64/uint8 y, npy v1 and v2")
    func npz() throws {
        let x32 = npy(descr: "<f4", shape: [3, 2], data: littleEndian([1, 2, 3, 4, 5, 6]))
        var x64Data: [UInt8] = []
        for value in [1.0, 2, 3, 4, 5, 6] { let bits = value.bitPattern; x64Data += (0..<8).map { UInt8(truncatingIfNeeded: bits >> (8 * $0)) } }
        let x64 = npy(descr: "<f8", shape: [3, 2], data: x64Data, version: 2)
        let y64 = npy(descr: "<i8", shape: [3], data: [2, 0, 0, 0, 0, 0, 0, 0] + [0, 0, 0, 0, 0, 0, 0, 0] + [1, 0, 0, 0, 0, 0, 0, 0])
        let y8 = npy(descr: "|u1", shape: [3], data: [2, 0, 1])
        for (x, y, deflate) in [(x32, y64, false), (x64, y8, true), (x32, y8, true)] {
            let data = try DatasetFile.decode(zip([("x.npy", x), ("y.npy", y)], deflate: deflate), format: .npz)
            #expect(data.features == [1, 2, 3, 4, 5, 6])
            #expect(data.labels == [2, 0, 1])
            #expect(data.featureCount == 2 && data.classCount == 3)
        }
    }

    /// numpy 2.4.6: `np.savez(f, x=float32 [[0.5, 1], [2, 3.25], [-1, 0]], y=int64 [2, 0, 1])`, and the same with
    /// `np.savez_compressed`.
    static let savez = "504b03042d000000000000002100cbc9b418ffffffffffffffff05001400782e6e70790100100098000000000000009800000000000000934e554d5059010076007b276465736372273a20273c6634272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028332c2032292c207d202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a0000003f0000803f0000004000005040000080bf00000000504b03042d0000000000000021008a1ace13ffffffffffffffff05001400792e6e70790100100098000000000000009800000000000000934e554d5059010076007b276465736372273a20273c6938272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028332c292c207d2020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a020000000000000000000000000000000100000000000000504b01022d032d000000000000002100cbc9b4189800000098000000050000000000000000000000800100000000782e6e7079504b01022d032d0000000000000021008a1ace1398000000980000000500000000000000000000008001cf000000792e6e7079504b05060000000002000200660000009e0100000000"
    static let savezCompressed = "504b03042d000000080000002100cbc9b418ffffffffffffffff05001400782e6e70790100100098000000000000005a000000000000009bec17ea1b10c9c850c650ad9e925a9c5ca46ea5a06e9366a2aea3a09e965f54529498179f5f94920a12774bcc294e058a17672416a402f91ac63a0a469a3a0ab50a64032e0606067b06860620667060600800e286fd40360300504b03042d0000000800000021008a1ace13ffffffffffffffff05001400792e6e70790100100098000000000000004a000000000000009bec17ea1b10c9c850c650ad9e925a9c5ca46ea5a06e9369a1aea3a09e965f54529498179f5f94920a12774bcc294e058a17672416a402f91ac63a9a3a0ab50a14002e260654c008a501504b01022d032d000000080000002100cbc9b4185a00000098000000050000000000000000000000800100000000782e6e7079504b01022d032d0000000800000021008a1ace134a00000098000000050000000000000000000000800191000000792e6e7079504b0506000000000200020066000000120100000000"

    @Test("files written by np.savez and np.savez_compressed decode")
    func numpyFiles() throws {
        for hex in [Self.savez, Self.savezCompressed] {
            var bytes: [UInt8] = []
            var text = Substring(hex)
            while !text.isEmpty { bytes.append(UInt8(text.prefix(2), radix: 16)!); text = text.dropFirst(2) }
            let data = try DatasetFile.decode(bytes, format: .npz)
            #expect(data.features == [0.5, 1, 2, 3.25, -1, 0])
            #expect(data.labels == [2, 0, 1])
            #expect(data.featureCount == 2 && data.classCount == 3)
        }
    }

    @Test("npz errors", arguments: [
        ([("x.npy", npy(descr: "<f4", shape: [1, 1], data: littleEndian([1])))], "npz: no array \"y\""),
        ([("x.npy", npy(descr: ">f4", shape: [1, 1], data: littleEndian([1]))), ("y.npy", npy(descr: "|u1", shape: [1], data: [0]))], "npy x: dtype >f4 is big endian"),
        ([("x.npy", npy(descr: "<f4", shape: [2, 1], data: littleEndian([1]))), ("y.npy", npy(descr: "|u1", shape: [1], data: [0]))], "npy x: 4 data bytes, shape [2, 1]"),
        ([("x.npy", npy(descr: "<f4", shape: [1], data: littleEndian([1]))), ("y.npy", npy(descr: "|u1", shape: [1], data: [0]))], "npz: x has shape [1], must be 2-D"),
        ([("x.npy", npy(descr: "<f4", shape: [2, 1], data: littleEndian([1, 2]))), ("y.npy", npy(descr: "|u1", shape: [1], data: [0]))], "npz: x has 2 rows, y 1 labels"),
        ([("x.npy", npy(descr: "<c8", shape: [1, 1], data: [0, 0, 0, 0, 0, 0, 0, 0])), ("y.npy", npy(descr: "|u1", shape: [1], data: [0]))], "npy x: dtype <c8 is not read"),
    ])
    func npzErrors(members: [(String, [UInt8])], message: String) {
        #expect {
            try DatasetFile.decode(zip(members, deflate: false), format: .npz)
        } throws: { error in
            (error as? LearningError)?.description.hasPrefix(message) == true
        }
    }

    @Test("npz: a corrupted archive is refused, never trapped on")
    func npzCorrupted() throws {
        let good = zip([("x.npy", npy(descr: "<f4", shape: [1, 1], data: littleEndian([1]))), ("y.npy", npy(descr: "|u1", shape: [1], data: [0]))], deflate: true)
        #expect(try DatasetFile.decode(good, format: .npz).count == 1)
        var random = SeededRandom(seed: 3)
        for _ in 0..<300 {
            var bad = good
            let index = Int(random.next() % UInt64(bad.count))
            bad[index] ^= UInt8(truncatingIfNeeded: random.next() | 1)
            _ = try? DatasetFile.decode(bad, format: .npz)
            _ = try? DatasetFile.decode(Array(bad.prefix(index)), format: .npz)
        }
        #expect(throws: LearningError.self) { try DatasetFile.decode([1, 2, 3], format: .npz) }
    }

    @Test("gunzip: round trip, and clear errors for non-gzip or truncated data")
    func gunzip() throws {
        let text = Array(String(repeating: "1,2,3\n", count: 1000).utf8)
        let packed = Zlib.deflate(text, gzip: true)
        #expect(try DatasetFile.gunzip(packed) == text)
        #expect(throws: LearningError("gzip: not gzip data (no 1f 8b header)")) { try DatasetFile.gunzip(text) }
        #expect(throws: LearningError.self) { try DatasetFile.gunzip(Array(packed.prefix(packed.count / 2))) }
    }
}
