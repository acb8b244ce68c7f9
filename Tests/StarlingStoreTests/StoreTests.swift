import Foundation
import GRDB
import StarlingCrypto
import StarlingStore
import StarlingTrust
import Testing

/// A fresh directory under the system temp dir, removed by the caller.
func temporaryDirectory(_ label: String = #function) -> String {
    let path = NSTemporaryDirectory() + "starling-store-tests-\(UUID().uuidString.prefix(8))"
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

func key(_ seed: UInt8) -> SigningKey { try! SigningKey(seed: [UInt8](repeating: seed, count: 32)) }

@Suite struct StoreTests {
    let authority = Authority(signingKey: key(1))
    let node = NodeID(key(2).publicKey)

    @Test func opensInWALModeWithMigrationsApplied() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try Store(directory: directory)
        #expect(try store.journalMode() == "wal")
        #expect(try store.appliedMigrations() == ["v1-trust", "v2-membership", "v3-tasks", "v4-learning", "v5-imported-models", "v6-dataset-arrivals"])
        #expect(FileManager.default.fileExists(atPath: directory + "/starling.db"))
        #expect(FileManager.default.fileExists(atPath: directory + "/blobs"))
    }

    @Test func keepsEverythingAcrossReopen() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let certificate = try authority.admit(node, name: "edge-1", roles: [.peer], now: 1000, validFor: 100)
        let other = NodeID(key(3).publicKey)
        let revocation = try authority.revoke(other, now: 1500, reason: "lost")
        do {
            let store = try Store(directory: directory)
            try store.bindIdentity(node, now: 1000)
            try store.bindAuthority(authority.publicKey)
            try store.saveCertificate(certificate)
            try store.saveRevocation(revocation)
        }
        let reopened = try Store(directory: directory)
        #expect(try reopened.identity() == node)
        #expect(try reopened.authority() == authority.publicKey)
        #expect(try reopened.certificate(of: node) == certificate)
        #expect(try reopened.revocations() == [revocation])
        #expect(try reopened.appliedMigrations() == ["v1-trust", "v2-membership", "v3-tasks", "v4-learning", "v5-imported-models", "v6-dataset-arrivals"])
    }

    @Test func refusesAnotherIdentityOrAuthority() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try Store(directory: directory)
        try store.bindIdentity(node, now: 1)
        try store.bindIdentity(node, now: 2)
        #expect(throws: StoreError.self) { try store.bindIdentity(NodeID(key(9).publicKey), now: 3) }
        try store.bindAuthority(authority.publicKey)
        #expect(throws: StoreError.self) { try store.bindAuthority(key(8).publicKey) }
    }

    @Test func keepsTheLongestLivedCertificateAndDropsRevokedOnes() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try Store(directory: directory)
        let long = try authority.admit(node, name: "edge-1", roles: [.peer], now: 1000, validFor: 1000)
        let short = try authority.admit(node, name: "edge-1", roles: [.peer], now: 1000, validFor: 10)
        try store.saveCertificate(long)
        try store.saveCertificate(short)
        #expect(try store.certificate(of: node) == long)
        try store.saveRevocation(try authority.revoke(node, now: 1200))
        #expect(try store.certificate(of: node) == nil)
        // The earliest revocation wins, whatever order they arrive in.
        try store.saveRevocation(try authority.revoke(node, now: 1100))
        try store.saveRevocation(try authority.revoke(node, now: 1300))
        #expect(try store.revocations().map(\.revokedAt) == [1100])
    }

    @Test func reportsADamagedRecordInsteadOfTrustingIt() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            let store = try Store(directory: directory)
            try store.saveCertificate(try authority.admit(node, name: "edge-1", roles: [.peer], now: 1, validFor: 10))
        }
        let queue = try DatabaseQueue(path: directory + "/starling.db")
        try queue.write { try $0.execute(sql: "UPDATE certificates SET encoded = x'0102'") }
        let store = try Store(directory: directory)
        #expect(throws: StoreError.self) { try store.certificates() }
    }
}

@Suite struct BlobStoreTests {
    @Test func storesByHashAndVerifiesOnRead() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let blobs = try BlobStore(directory: directory)
        let content = [UInt8](repeating: 7, count: 100_000)
        let hash = try blobs.put(content)
        #expect(hash == ContentHash.of(content))
        #expect(try blobs.put(content) == hash)
        #expect(try blobs.get(hash) == content)
        #expect(try blobs.get(ContentHash.of([1])) == nil)
        // Nothing but the blob itself is left behind (no temporary files).
        let shard = directory + "/" + String(hash.hex.prefix(2))
        #expect(try FileManager.default.contentsOfDirectory(atPath: shard) == [hash.hex])

        var damaged = content
        damaged[500] ^= 1
        try Data(damaged).write(to: URL(fileURLWithPath: blobs.path(of: hash)))
        #expect(throws: StoreError.self) { try blobs.get(hash) }
        try blobs.remove(hash)
        #expect(!blobs.contains(hash))
    }
}

@Suite struct TrustFileTests {
    @Test func secretFilesAre0600AndPublicOnes0644() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try TrustFiles.write(.identity(key(1)), to: directory + "/sub/identity.key")
        try TrustFiles.write(.authorityPublic(key(1).publicKey), to: directory + "/authority.pub")
        let secret = try FileManager.default.attributesOfItem(atPath: directory + "/sub/identity.key")
        let shared = try FileManager.default.attributesOfItem(atPath: directory + "/authority.pub")
        #expect((secret[.posixPermissions] as? Int) == 0o600)
        #expect((shared[.posixPermissions] as? Int) == 0o644)
        let read = try TrustFiles.read(directory + "/sub/identity.key", expecting: .identity)
        #expect(read.signingKey?.publicKey == key(1).publicKey)
    }

    @Test func neverOverwritesUnlessAsked() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/identity.key"
        try TrustFiles.write(.identity(key(1)), to: path)
        #expect(throws: StoreError.self) { try TrustFiles.write(.identity(key(2)), to: path) }
        #expect(try TrustFiles.read(path, expecting: .identity).signingKey?.publicKey == key(1).publicKey)
        try TrustFiles.write(.identity(key(2)), to: path, replace: true)
        #expect(try TrustFiles.read(path, expecting: .identity).signingKey?.publicKey == key(2).publicKey)
    }

    @Test func refusesSecretsOthersCanRead() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/identity.key"
        try TrustFiles.write(.identity(key(1)), to: path)
        for mode in [0o640, 0o604, 0o660, 0o644] {
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
            let error = #expect(throws: StoreError.self) { try TrustFiles.read(path, expecting: .identity) }
            #expect(error?.description.contains("chmod 600") == true)
        }
    }

    @Test func namesTheFileAndTheProblem() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let missing = #expect(throws: StoreError.self) { try TrustFiles.read(directory + "/nope", expecting: .certificate) }
        #expect(missing?.description == "\(directory)/nope: no such file")

        try TrustFiles.write(.authorityPublic(key(1).publicKey), to: directory + "/authority.pub")
        let wrongKind = #expect(throws: StoreError.self) {
            try TrustFiles.read(directory + "/authority.pub", expecting: .certificate)
        }
        #expect(wrongKind?.description.contains("an authority public key, not a certificate") == true)

        try Data(repeating: 0, count: 70_000).write(to: URL(fileURLWithPath: directory + "/big"))
        let big = #expect(throws: StoreError.self) { try TrustFiles.read(directory + "/big", expecting: .certificate) }
        #expect(big?.description.contains("over the limit") == true)

        try Data("hello".utf8).write(to: URL(fileURLWithPath: directory + "/text"))
        let text = #expect(throws: StoreError.self) { try TrustFiles.read(directory + "/text", expecting: .certificate) }
        #expect(text?.description.contains("bad magic") == true)
    }
}
