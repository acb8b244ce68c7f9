import Foundation
import StarlingStore
import Testing

@Suite struct StoreMembershipTests {
    @Test func keepsIncarnationAndKnownPeersAcrossReopen() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(try Store(directory: directory).membership() == StoredMembership())
        let saved = StoredMembership(incarnation: 12, knownPeers: [
            .init(host: "10.0.0.2", port: 7946), .init(host: "::1", port: 7947), .init(host: "10.0.0.2", port: 7946),
        ])
        try Store(directory: directory).saveMembership(saved)
        let reopened = try Store(directory: directory)
        #expect(try reopened.membership() == StoredMembership(incarnation: 12, knownPeers: Array(saved.knownPeers.prefix(2))))

        // The incarnation never goes down; the peer list is replaced.
        try reopened.saveMembership(StoredMembership(incarnation: 3, knownPeers: [.init(host: "10.0.0.9", port: 1)]))
        #expect(try reopened.membership() == StoredMembership(incarnation: 12, knownPeers: [.init(host: "10.0.0.9", port: 1)]))
    }

    @Test func keepsAtMostTheKnownPeersLimit() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try Store(directory: directory)
        let many = (1...(Store.knownPeersMax + 10)).map { StoredMembership.Address(host: "10.0.\($0 / 256).\($0 % 256)", port: 7946) }
        try store.saveMembership(StoredMembership(incarnation: 1, knownPeers: many))
        #expect(try store.membership().knownPeers == Array(many.prefix(Store.knownPeersMax)))
    }
}
