@testable import StarlingLearning
import Testing

/// A safetensors file from its header text and data bytes, as python's `safetensors` lays it out.
func safetensorsFile(header: String, data: [UInt8]) -> [UInt8] {
    var header = Array(header.utf8)
    while (8 + header.count) % 8 != 0 { header.append(0x20) }
    var out: [UInt8] = []
    var length = UInt64(header.count)
    for _ in 0..<8 { out.append(UInt8(truncatingIfNeeded: length)); length >>= 8 }
    return out + header + data
}

func littleEndian(_ values: [Float]) -> [UInt8] {
    values.flatMap { value -> [UInt8] in let bits = value.bitPattern; return (0..<4).map { UInt8(truncatingIfNeeded: bits >> (8 * $0)) } }
}

func model(_ tensors: [(String, [Int], [Float])], metadata: [String: String] = [:]) throws -> ModelWeights {
    try ModelWeights(tensors: tensors.map { try Tensor(name: $0.0, shape: $0.1, values: $0.2) }, metadata: metadata)
}

@Suite("safetensors")
struct SafeTensorsTests {
    @Test("encode then decode gives the model back; the bytes are deterministic and 8-byte aligned")
    func roundTrip() throws {
        let original = try model([("fc.weight", [2, 3], [1, -2, 3.5, 0, 1e-30, -7]), ("fc.bias", [2], [0.25, -0.5]), ("scalar", [], [42])],
                                 metadata: ["format": "pt", "note": "a \"quoted\"\nline"])
        let bytes = SafeTensors.encode(original)
        #expect(try SafeTensors.decode(bytes) == original)
        #expect(SafeTensors.encode(try SafeTensors.decode(bytes)) == bytes)
        let headerLength = Int(bytes[0]) | Int(bytes[1]) << 8
        #expect((8 + headerLength) % 8 == 0)
        let header = String(decoding: bytes[8..<(8 + headerLength)], as: UTF8.self)
        #expect(header.hasPrefix(#"{"__metadata__":{"format":"pt","note":"a \"quoted\"\nline"},"fc.bias":{"data_offsets":[0,8],"dtype":"F32","shape":[2]}"#))
        #expect(original.parameterCount == 9)
        #expect(original.tensors.map(\.name) == ["fc.bias", "fc.weight", "scalar"])
    }

    @Test("a file laid out like python's safetensors (metadata last, offsets in any order) decodes")
    func pythonLayout() throws {
        // safetensors.numpy.save_file({"b": np.array([1, 2], float32), "a": np.array([[3, 4, 5]], float32)}, metadata={"format": "np"})
        let header = #"{"a":{"dtype":"F32","shape":[1,3],"data_offsets":[0,12]},"b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]},"__metadata__":{"format":"np"}}"#
        let file = safetensorsFile(header: header, data: littleEndian([3, 4, 5, 1, 2]))
        let decoded = try SafeTensors.decode(file)
        #expect(decoded == (try model([("a", [1, 3], [3, 4, 5]), ("b", [2], [1, 2])], metadata: ["format": "np"])))
    }

    /// `safetensors.numpy.save` (safetensors 0.8.0, numpy 2.4.6) of {"fc.weight": float32 [[1.5, -2, 0.25], [3, 4, -0.5]],
    /// "fc.bias": float16 [0.5, -1], "emb": float64 [1, 2], "steps": int64 [7, -3]}, metadata {"format": "np", "round": "3"}.
    static let pythonFile = "20010000000000007b225f5f6d657461646174615f5f223a7b22726f756e64223a2233222c22666f726d6174223a226e70227d2c227374657073223a7b226474797065223a22493634222c227368617065223a5b325d2c22646174615f6f666673657473223a5b302c31365d7d2c22656d62223a7b226474797065223a22463634222c227368617065223a5b325d2c22646174615f6f666673657473223a5b31362c33325d7d2c2266632e776569676874223a7b226474797065223a22463332222c227368617065223a5b322c335d2c22646174615f6f666673657473223a5b33322c35365d7d2c2266632e62696173223a7b226474797065223a22463136222c227368617065223a5b325d2c22646174615f6f666673657473223a5b35362c36305d7d7d2020200700000000000000fdffffffffffffff000000000000f03f00000000000000400000c03f000000c00000803e0000404000008040000000bf003800bc"

    @Test("a file written by python's safetensors decodes")
    func pythonFile() throws {
        var bytes: [UInt8] = []
        var text = Substring(Self.pythonFile)
        while !text.isEmpty { bytes.append(UInt8(text.prefix(2), radix: 16)!); text = text.dropFirst(2) }
        let decoded = try SafeTensors.decode(bytes)
        #expect(decoded == (try model([("fc.weight", [2, 3], [1.5, -2, 0.25, 3, 4, -0.5]), ("fc.bias", [2], [0.5, -1]), ("emb", [2], [1, 2]),
                                       ("steps", [2], [7, -3])], metadata: ["format": "np", "round": "3"])))
        // Re-encoded as F32, it decodes to the same model.
        #expect(try SafeTensors.decode(SafeTensors.encode(decoded)) == decoded)
    }

    @Test("damaged files are refused, never trapped on")
    func damaged() throws {
        let good = SafeTensors.encode(try model([("a", [2, 2], [1, 2, 3, 4]), ("b", [3], [5, 6, 7])], metadata: ["k": "v"]))
        var random = SeededRandom(seed: 9)
        for _ in 0..<2_000 {
            var bad = good
            for _ in 0..<(1 + Int(random.next() % 3)) {
                let index = Int(random.next() % UInt64(bad.count))
                bad[index] = UInt8(truncatingIfNeeded: random.next())
            }
            _ = try? SafeTensors.decode(bad)
            _ = try? SafeTensors.decode(Array(bad.prefix(Int(random.next() % UInt64(bad.count)))))
        }
    }

    @Test("F64, F16, BF16 and integer dtypes convert to Float")
    func otherDTypes() throws {
        var data: [UInt8] = []
        for value in [1.5, -2.25] { let bits = value.bitPattern; data += (0..<8).map { UInt8(truncatingIfNeeded: bits >> (8 * $0)) } }
        data += [0x00, 0x3C, 0x00, 0xC0, 0x01, 0x00]  // F16: 1, -2, smallest subnormal
        data += [0x80, 0x3F, 0x40, 0xC0]  // BF16: 1, -3
        data += [0xFF, 0xFF, 0xFF, 0xFF, 7, 0, 0, 0]  // I32: -1, 7
        data += [200, 1]  // U8
        let header = #"{"d":{"dtype":"F64","shape":[2],"data_offsets":[0,16]},"h":{"dtype":"F16","shape":[3],"data_offsets":[16,22]},"# +
            #""b":{"dtype":"BF16","shape":[2],"data_offsets":[22,26]},"i":{"dtype":"I32","shape":[2],"data_offsets":[26,34]},"u":{"dtype":"U8","shape":[2],"data_offsets":[34,36]}}"#
        let decoded = try SafeTensors.decode(safetensorsFile(header: header, data: data))
        #expect(decoded["d"]?.values == [1.5, -2.25])
        #expect(decoded["h"]?.values == [1, -2, Float(1.0 / 16_777_216.0)])
        #expect(decoded["b"]?.values == [1, -3])
        #expect(decoded["i"]?.values == [-1, 7])
        #expect(decoded["u"]?.values == [200, 1])
    }

    @Test("every malformation is refused with a message naming it", arguments: [
        (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}"#, 8, "JSON header"),
        (#"{"a":{"dtype":"Q7","shape":[2],"data_offsets":[0,8]}}"#, 8, "dtype Q7"),
        (#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, 8, "needs 12"),
        (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,16]}}"#, 8, "out of range"),
        (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, 8, "overlap"),
        (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, 8, "gap"),
        (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, 8, "cover 4 of the 8"),
        (#"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, 8, "non-negative integer"),
        (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}"#, 8, "end before"),
        (#"{"a":{"dtype":"F32","shape":[2]}}"#, 8, "no data_offsets"),
        (#"{"a":[1,2]}"#, 0, "not an object"),
        (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, 8, "duplicate key"),
        (#"{"__metadata__":{"x":1}}"#, 0, "not a string"),
        (#"{"a":{"dtype":"F32","shape":[1,1,1,1,1,1,1,1,1],"data_offsets":[0,4]}}"#, 4, "rank 9"),
    ])
    func malformed(header: String, dataBytes: Int, expected: String) {
        let file = safetensorsFile(header: header, data: [UInt8](repeating: 0, count: dataBytes))
        #expect {
            try SafeTensors.decode(file)
        } throws: { error in
            (error as? LearningError)?.description.contains(expected) == true
        }
    }

    @Test("bad header lengths are refused")
    func headerLength() throws {
        #expect(throws: LearningError.self) { try SafeTensors.decode([1, 2, 3]) }
        #expect(throws: LearningError("safetensors: header length 1000 does not fit in 8 bytes after it")) {
            try SafeTensors.decode([0xE8, 0x03, 0, 0, 0, 0, 0, 0] + Array("{}      ".utf8))
        }
        #expect(throws: LearningError.self) { try SafeTensors.decode([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF] + Array("{}      ".utf8)) }
        // An empty model is valid.
        #expect(try SafeTensors.decode(SafeTensors.encode(try ModelWeights(tensors: []))).tensors.isEmpty)
        // The bytes a known model encodes to; safetensors 0.8.0 (python, numpy.load and safe_open) reads them back: w = [1, -2], metadata kept.
        let known = SafeTensors.encode(try model([("w", [2], [1, -2])], metadata: ["format": "np"]))
        #expect(String(decoding: known[8..<(known.count - 8)], as: UTF8.self)
            == #"{"__metadata__":{"format":"np"},"w":{"data_offsets":[0,8],"dtype":"F32","shape":[2]}}"# + String(repeating: " ", count: 3))
    }

    @Test("tensors and models check their invariants")
    func invariants() throws {
        #expect(throws: LearningError.self) { try Tensor(name: "a", shape: [2, 2], values: [1, 2, 3]) }
        #expect(throws: LearningError.self) { try Tensor(name: "", shape: [1], values: [1]) }
        #expect(throws: LearningError.self) { try model([("a", [1], [1]), ("a", [1], [2])]) }
        let a = try model([("x", [2], [1, 2])]), b = try model([("x", [2], [5, 6])]), c = try model([("x", [1, 2], [5, 6])])
        #expect(a.sameLayout(as: b))
        #expect(!a.sameLayout(as: c))
    }
}
