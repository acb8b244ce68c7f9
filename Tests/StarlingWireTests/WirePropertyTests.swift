import StarlingTestSupport
import StarlingWire
import Testing

/// Seeded property tests of the codec itself. The decoders of real messages (certificates,
/// revocations, key files) get the same treatment in StarlingTrustTests' `DecoderPropertyTests`.
///
/// The property: a decoder never traps, and whatever it accepts re-encodes to exactly the bytes it
/// was given (one encoding per value, so "the bytes that were signed" is well-defined).
@Suite("Wire properties")
struct WirePropertyTests {
    static let seeds: [UInt64] = [1, 0x5EED, 0xC0FFEE]

    /// Decodes with `decode`; on success, the value must re-encode to `bytes`.
    private func checkCanonical(_ bytes: [UInt8], _ decode: ([UInt8]) throws -> [UInt8]) -> Bool {
        do {
            let reencoded = try decode(bytes)
            #expect(reencoded == bytes, "accepted a non-canonical encoding: \(bytes)")
            return true
        } catch is WireError {
            return false
        } catch {
            Issue.record("decoder threw a non-wire error: \(error)")
            return false
        }
    }

    private func datagramDecoder(_ bytes: [UInt8]) throws -> [UInt8] {
        try Envelope(datagram: bytes).datagram()
    }

    private func frameDecoder(_ bytes: [UInt8]) throws -> [UInt8] {
        // nil means "wait for more bytes": count it as not accepted.
        guard let decoded = try Envelope.frame(from: bytes) else {
            throw WireError.truncated(offset: bytes.count, needed: 1)
        }
        let reencoded = try decoded.envelope.frame()
        #expect(decoded.consumed == reencoded.count)
        return reencoded + bytes.dropFirst(decoded.consumed)
    }

    private func sampleDecoder(_ bytes: [UInt8]) throws -> [UInt8] {
        try Sample(wireBytes: bytes).wireBytes
    }

    @Test("random bytes never trap any decoder, and what decodes is canonical", arguments: seeds)
    func randomBytes(seed: UInt64) {
        var random = TestRandom(seed: seed)
        var accepted = 0
        for round in 0..<3000 {
            let length = round % 10 == 0 ? Int.random(in: 0...1300, using: &random) : Int.random(in: 0...64, using: &random)
            var bytes = random.bytes(length)
            // Bias some inputs towards a valid header so the decoders get past the first byte.
            if round % 2 == 0, !bytes.isEmpty {
                bytes[0] = ProtocolVersion.current
                if bytes.count > 1 { bytes[1] = UInt8(MessageTag.allCases.randomElement(using: &random)!.rawValue) }
            }
            if checkCanonical(bytes, datagramDecoder) { accepted += 1 }
            var framed = bytes
            if round % 3 == 0 {
                let length = UInt32(max(0, bytes.count - 4 - Int.random(in: 0...2, using: &random)))
                for index in 0..<min(4, framed.count) { framed[index] = UInt8(truncatingIfNeeded: length >> UInt32(24 - 8 * index)) }
                if framed.count > 4 { framed[4] = ProtocolVersion.current }
            }
            _ = checkCanonical(framed, frameDecoder)
            _ = checkCanonical(bytes, sampleDecoder)
        }
        #expect(accepted > 100, "the generator should reach the accepting paths")
    }

    @Test("random valid values round-trip byte-exactly", arguments: seeds)
    func validValues(seed: UInt64) throws {
        var random = TestRandom(seed: seed)
        for _ in 0..<1000 {
            let sample = random.sample()
            let bytes = sample.wireBytes
            let decoded = try Sample(wireBytes: bytes)
            #expect(decoded == sample)
            #expect(decoded.wireBytes == bytes)

            let tag = MessageTag.allCases.randomElement(using: &random)!
            let envelope = Envelope(tag: tag, body: random.bytes(Int.random(in: 0...1198, using: &random)))
            let datagram = try envelope.datagram()
            #expect(try Envelope(datagram: datagram) == envelope)
            let frame = try envelope.frame()
            let decodedFrame = try #require(try Envelope.frame(from: frame))
            #expect(decodedFrame.envelope == envelope)
            #expect(decodedFrame.consumed == frame.count)
        }
    }

    @Test("mutations of valid encodings are refused or still canonical", arguments: seeds)
    func mutations(seed: UInt64) throws {
        var random = TestRandom(seed: seed)
        var refused = 0
        var accepted = 0
        for _ in 0..<1500 {
            let original = random.sample().wireBytes
            if checkCanonical(mutate(original, using: &random), sampleDecoder) { accepted += 1 } else { refused += 1 }

            let envelope = Envelope(
                tag: MessageTag.allCases.randomElement(using: &random)!,
                body: random.bytes(Int.random(in: 0...40, using: &random)))
            _ = checkCanonical(mutate(try envelope.datagram(), using: &random), datagramDecoder)
            _ = checkCanonical(mutate(try envelope.frame(), using: &random), frameDecoder)
        }
        #expect(refused > 0)
        #expect(accepted > 0)
    }
}
