import StarlingTaskYAML
import StarlingTasks
import StarlingTestSupport
import StarlingWire
import Testing

/// A spec has one encoding: the bytes a submitter signs and the task id hashes.
@Suite struct CanonicalEncodingTests {
    static let examples = ["federatedtask-seed.yaml", "federatedtask.yaml", "incrementallearningjob.yaml", "jointinferenceservice.yaml"]

    static func spec(_ example: String) throws -> TaskSpec {
        try SpecFiles.valid(try SpecFiles.text(SpecFiles.example(example))).spec
    }

    @Test(arguments: examples)
    func everyExampleRoundTrips(_ example: String) throws {
        let spec = try Self.spec(example)
        let bytes = spec.wireBytes
        let decoded = try TaskSpec(wireBytes: bytes)
        #expect(decoded == spec)
        #expect(decoded.wireBytes == bytes)
    }

    @Test func theSeedEncodingIsPinned() throws {
        // Pinned so an accidental change of the encoding (which would change every task id) fails here.
        let bytes = try Self.spec("federatedtask-seed.yaml").wireBytes
        #expect(bytes.count == 283)  // 283 since round_retries and the optional evaluation dataset (a byte each)
        #expect(Array(bytes.prefix(23)) == [1, 21] + Array("example-federatedtask".utf8))
    }

    @Test func orderOfParametersAndTagsDoesNotChangeTheBytes() throws {
        let text = try SpecFiles.text(SpecFiles.example("federatedtask.yaml"))
        let reordered = text
            .replacingOccurrences(of: "          - key: batch_size\n            value: 64\n          - key: learning_rate\n            value: 0.05\n",
                                  with: "          - key: learning_rate\n            value: 5e-2\n          - key: batch_size\n            value: \"64\"\n")
            .replacingOccurrences(of: "  labels:\n    team: vision\n", with: "  labels:\n    zone: b\n    team: vision\n")
        let base = text.replacingOccurrences(of: "  labels:\n    team: vision\n", with: "  labels:\n    team: vision\n    zone: b\n")
        #expect(reordered != base)
        let left = try SpecFiles.valid(base).spec, right = try SpecFiles.valid(reordered).spec
        #expect(left == right)
        #expect(left.wireBytes == right.wireBytes)
    }

    @Test func nonCanonicalBytesAreRefused() throws {
        let spec = try Self.spec("federatedtask.yaml")
        var bytes = spec.wireBytes
        #expect(throws: WireError.self) { try TaskSpec(wireBytes: bytes + [0]) }
        bytes[0] = 2
        #expect(throws: WireError.self) { try TaskSpec(wireBytes: bytes) }

        // Labels out of order.
        var unsorted = spec
        unsorted.labels = [TaskTag("zone", "b"), TaskTag("team", "vision")]
        #expect(throws: WireError.self) { try TaskSpec(wireBytes: unsorted.wireBytes) }

        // A negative zero learning rate would be a second encoding of 0 (and 0 is not a rate anyway).
        var task = try #require(spec.federatedTask)
        task.trainingWorkers[0].hyperparameters.learningRate = 1
        var changed = spec
        changed.kind = .federatedTask(task)
        var encoded = changed.wireBytes
        let one = Array(withUnsafeBytes(of: (1.0).bitPattern.bigEndian) { Array($0) })
        let at = try #require(encoded.firstRange(of: one)).lowerBound
        encoded.replaceSubrange(at..<(at + 8), with: withUnsafeBytes(of: (-0.0).bitPattern.bigEndian) { Array($0) })
        #expect(throws: WireError.self) { try TaskSpec(wireBytes: encoded) }
    }

    @Test func mutatedBytesNeverTrapAndWhatDecodesReencodesTheSame() throws {
        var random = SplitMix64(seed: 0x7A5C)
        for example in Self.examples {
            let bytes = try Self.spec(example).wireBytes
            for _ in 0..<2_000 {
                let mutated = mutate(bytes, using: &random)
                if let decoded = try? TaskSpec(wireBytes: mutated) {
                    #expect(decoded.wireBytes == mutated)
                }
            }
        }
    }
}

/// A small seeded generator for the mutation tests.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
