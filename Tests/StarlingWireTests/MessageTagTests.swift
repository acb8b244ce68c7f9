import StarlingWire
import Testing

@Suite("Message tags")
struct MessageTagTests {
    /// Tags are append-only: a number, once shipped, means the same thing forever. Adding a case
    /// means adding a line here; changing or removing a line here is a protocol break.
    static let pinned: [(tag: MessageTag, rawValue: UInt64)] = [
        (.certificate, 1),
        (.revocation, 2),
        (.membershipPacket, 3),
        (.syncRequest, 4),
        (.syncResponse, 5),
        (.syncPush, 6),
        (.syncPushAck, 7),
        (.encryptedPacket, 8),
        (.keyringRequest, 9),
        (.keyringResponse, 10),
        (.probeRequest, 11),
        (.probeResponse, 12),
        (.taskPullRequest, 13),
        (.taskPullResponse, 14),
        (.taskReplicateRequest, 15),
        (.taskReplicateResponse, 16),
        (.blobManifestRequest, 17),
        (.blobManifestResponse, 18),
        (.blobChunkRequest, 19),
        (.blobChunkResponse, 20),
        (.taskPushRequest, 21),
        (.taskPushResponse, 22),
        (.inferRequest, 23),
        (.inferResponse, 24),
    ]

    @Test("every tag's number is pinned")
    func pinnedNumbers() {
        #expect(MessageTag.allCases.count == Self.pinned.count, "a tag was added without pinning it here")
        for (tag, rawValue) in Self.pinned {
            #expect(tag.rawValue == rawValue, "\(tag) changed its number")
            #expect(MessageTag(rawValue: rawValue) == tag)
        }
        #expect(MessageTag.allCases == Self.pinned.map(\.tag), "cases must be declared in number order")
    }

    @Test("numbers are unique, increasing, and never zero")
    func numbersIncrease() {
        let numbers = MessageTag.allCases.map(\.rawValue)
        #expect(numbers.first.map { $0 > 0 } ?? true)
        #expect(zip(numbers, numbers.dropFirst()).allSatisfy { $0 < $1 })
    }
}
