import StarlingCrypto
@testable import StarlingMembership
@testable import StarlingPeer
import StarlingTrust
import StarlingWire
import Testing

@Suite struct DisseminationQueueTests {
    let cluster = TestCluster()

    @Test func leastTransmittedFirstNewestFirstOneEntryPerSubject() {
        var queue = DisseminationQueue(capacity: 10)
        queue.enqueue(.claim(cluster.alive(1)), key: .member(cluster.node(1)))
        queue.enqueue(.claim(cluster.alive(2)), key: .member(cluster.node(2)))
        queue.enqueue(.claim(cluster.alive(1, incarnation: 2)), key: .member(cluster.node(1)))
        #expect(queue.count == 2)
        let first = queue.take(budget: 1200, transmitLimit: 3).messages
        #expect(first == [.claim(cluster.alive(1, incarnation: 2)), .claim(cluster.alive(2))])
        queue.enqueue(.claim(cluster.alive(3)), key: .member(cluster.node(3)))
        let oneOnly = queue.take(budget: MembershipMessage.claim(cluster.alive(3)).encodedSize, transmitLimit: 3).messages
        #expect(oneOnly == [.claim(cluster.alive(3))], "the untransmitted entry goes first")
        #expect(queue.take(budget: 1200, transmitLimit: 3).messages.count == 3)
        #expect(queue.count == 3)
        #expect(queue.take(budget: 1200, transmitLimit: 3).messages.count == 3)
        #expect(queue.count == 0, "entries leave after the transmit limit")
    }

    @Test func aNewSuspicionDoesNotStopARefutationFromSpreading() {
        var membership = cluster.membership(0)
        _ = membership.deliver([cluster.alive(1), cluster.alive(2), cluster.alive(3)], from: 1, cluster: cluster)
        while membership.hasBroadcasts { _ = membership.takeBroadcasts(budget: 100_000) }
        _ = membership.deliver([cluster.suspect(1, by: 2)], from: 2, cluster: cluster)
        _ = membership.deliver([cluster.alive(1, incarnation: 2)], from: 1, cluster: cluster)
        _ = membership.deliver([cluster.suspect(1, incarnation: 2, by: 3)], from: 3, cluster: cluster)
        let queued = membership.takeBroadcasts(budget: 100_000).messages
        #expect(queued.contains(.claim(cluster.alive(1, incarnation: 2))))
        #expect(queued.contains(.claim(cluster.suspect(1, incarnation: 2, by: 3))))
        #expect(!queued.contains(.claim(cluster.suspect(1, by: 2))), "the overturned verdict stops spreading")
    }

    @Test func capacityIsBoundedByDroppingTheMostTransmitted() {
        var queue = DisseminationQueue(capacity: 3)
        for index in 1...3 { queue.enqueue(.claim(cluster.alive(index)), key: .member(cluster.node(index))) }
        _ = queue.take(budget: MembershipMessage.claim(cluster.alive(3)).encodedSize, transmitLimit: 10)
        queue.enqueue(.claim(cluster.alive(4)), key: .member(cluster.node(4)))
        #expect(queue.count == 3)
        #expect(!queue.contains(.member(cluster.node(3))))
        #expect(queue.droppedForCapacity == 1)
    }

    @Test func piggybackSpaceIsSharedWithoutStarvation() {
        var membershipGot = 0, otherGot = 0
        // Both sides hungry: each keeps its reservation.
        PiggybackBudget.share(1000, membershipReserve: 600,
                              takeMembership: { membershipGot += $0; return $0 }, takeOther: { otherGot += $0; return $0 })
        #expect(membershipGot == 600 && otherGot == 400)
        // Other side idle: membership gets everything.
        membershipGot = 0
        PiggybackBudget.share(1000, membershipReserve: 600,
                              takeMembership: { membershipGot += $0; return $0 }, takeOther: { _ in 0 })
        #expect(membershipGot == 1000)
        // Membership idle: the other side gets everything.
        otherGot = 0
        PiggybackBudget.share(1000, membershipReserve: 600, takeMembership: { _ in 0 }, takeOther: { otherGot += $0; return $0 })
        #expect(otherGot == 1000)
    }

    @Test func messagesDecodeSkippingUnknownKinds() throws {
        var writer = WireWriter()
        writer.write(MembershipMessage.ping(sequence: 5, target: cluster.node(1)))
        writer.write(UInt8(200))
        writer.writeBytes([1, 2, 3])
        writer.write(MembershipMessage.claim(cluster.alive(2)))
        var skipped = 0
        let messages = try MembershipMessage.decodeAll(writer.bytes[...], skipped: &skipped)
        #expect(messages == [.ping(sequence: 5, target: cluster.node(1)), .claim(cluster.alive(2))])
        #expect(skipped == 1)
        let boundaries: Set<Int> = [38, 38 + 5]
        for cut in 1..<writer.bytes.count where !boundaries.contains(cut) {
            var ignored = 0
            #expect(throws: WireError.self) { try MembershipMessage.decodeAll(writer.bytes[..<cut], skipped: &ignored) }
        }
    }
}

@Suite struct PacketCodecTests {
    let cluster = TestCluster()

    @Test func pairwiseMACAuthenticatesSenderAndReceiver() throws {
        var alice = PacketCodec(identity: cluster.key(1), authentication: .pairwiseMAC, keyring: nil)
        var bob = PacketCodec(identity: cluster.key(2), authentication: .pairwiseMAC, keyring: nil)
        var carol = PacketCodec(identity: cluster.key(3), authentication: .pairwiseMAC, keyring: nil)
        var random = DeterministicRandom(seed: 9)
        let payload: [UInt8] = Array("hello".utf8)
        let datagram = try alice.seal(payload, to: cluster.node(2), random: &random)
        let opened = try bob.open(datagram, from: cluster.address(1)) { _ in nil }
        #expect(opened.sender == cluster.node(1) && Array(opened.payload) == payload)
        // The same datagram replayed to someone else does not authenticate.
        #expect(throws: PacketCodec.OpenError.badMAC) { try carol.open(datagram, from: cluster.address(1)) { _ in nil } }
        // Any altered byte is caught.
        for index in 2..<datagram.count {
            var altered = datagram
            altered[index] ^= 0x01
            #expect(throws: PacketCodec.OpenError.self) { try bob.open(altered, from: cluster.address(1)) { _ in nil } }
        }
    }

    @Test func aKeyringEncryptsAndRefusesPlaintext() throws {
        var ring = Keyring()
        try ring.install(SymmetricKey(bytes: [UInt8](repeating: 7, count: 32)))
        var alice = PacketCodec(identity: cluster.key(1), authentication: .pairwiseMAC, keyring: ring)
        var bob = PacketCodec(identity: cluster.key(2), authentication: .pairwiseMAC, keyring: ring)
        var plain = PacketCodec(identity: cluster.key(1), authentication: .pairwiseMAC, keyring: nil)
        var random = DeterministicRandom(seed: 9)
        let sealed = try alice.seal([1, 2, 3], to: cluster.node(2), random: &random)
        #expect(!sealed.containsSubsequence(cluster.node(1).publicKey.bytes), "the sender is hidden too")
        #expect(Array(try bob.open(sealed, from: cluster.address(1)) { _ in nil }.payload) == [1, 2, 3])
        let unsealed = try plain.seal([1, 2, 3], to: cluster.node(2), random: &random)
        #expect(throws: PacketCodec.OpenError.unencrypted) { try bob.open(unsealed, from: cluster.address(1)) { _ in nil } }
    }

    @Test func simulatedAuthenticationRejectsSpoofedSources() throws {
        var alice = PacketCodec(identity: cluster.key(1), authentication: .simulatedNetwork, keyring: nil)
        var bob = PacketCodec(identity: cluster.key(2), authentication: .simulatedNetwork, keyring: nil)
        var random = DeterministicRandom(seed: 9)
        let datagram = try alice.seal([9], to: cluster.node(2), random: &random)
        let known: (NodeID) -> PeerAddress? = { $0 == cluster.node(1) ? cluster.address(1) : nil }
        #expect(throws: PacketCodec.OpenError.spoofedAddress) { try bob.open(datagram, from: cluster.address(7), knownAddress: known) }
        #expect(try bob.open(datagram, from: cluster.address(1), knownAddress: known).sender == cluster.node(1))
    }
}

extension Array where Element == UInt8 {
    func containsSubsequence(_ needle: [UInt8]) -> Bool {
        guard needle.count <= count else { return false }
        return (0...(count - needle.count)).contains { Array(self[$0..<($0 + needle.count)]) == needle }
    }
}

@Suite struct SyncTests {
    let cluster = TestCluster()

    @Test func pushPullExchangesOnlyWhatDiffers() throws {
        var a = cluster.membership(0)
        var b = cluster.membership(1)
        _ = a.deliver([cluster.alive(2), cluster.alive(3, incarnation: 4)], from: 2, cluster: cluster)
        _ = b.deliver([cluster.alive(3, incarnation: 2), cluster.alive(4), cluster.alive(5)], from: 4, cluster: cluster)
        _ = b.deliver([cluster.suspect(5, by: 4)], from: 4, cluster: cluster)

        let request = a.makeSyncRequest()
        let (response, _) = b.handleSyncRequest(request, now: .zero)
        #expect(b.state(of: cluster.node(0)) == .alive, "the requester's own claim is applied")
        let sentSubjects = Set(response.claims.map(\.claim.subject))
        #expect(sentSubjects == [cluster.node(1), cluster.node(4), cluster.node(5)], "node 3 is newer at the requester")
        #expect(Set(response.wanted) == [cluster.node(2), cluster.node(3)])

        let (push, _) = a.handleSyncResponse(response, now: .zero)
        let pushed = try #require(push)
        _ = b.handleSyncPush(pushed, now: .zero)
        for membership in [a, b] {
            for index in 2...5 { #expect(membership.members[cluster.node(index)] != nil) }
        }
        #expect(a.state(of: cluster.node(5)) == .suspect)
        #expect(b.members[cluster.node(3)]?.incarnation == 4)
        // Repaired state is not re-gossiped: anti-entropy is the repair path, not news.
        #expect(!a.takeBroadcasts(budget: 100_000).messages.contains(.claim(cluster.alive(4))))
    }
}
