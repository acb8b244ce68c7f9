import StarlingBlobs
import StarlingCrypto
import StarlingMembership
import StarlingPeer
import StarlingTasks
import StarlingTrust
import StarlingWire

/// libFuzzer entry point: every input goes through every decoder that takes bytes from the network
/// or from disk. A decoder may refuse the input (a thrown error is the expected outcome for most
/// inputs); what it must never do is trap, or accept bytes that do not re-encode to exactly
/// themselves (a non-canonical encoding would make "the bytes that were signed" ambiguous).
/// Violations trap on purpose, so libFuzzer records the input as a crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func starlingFuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    FuzzChecks.datagram(bytes)
    FuzzChecks.frame(bytes)
    FuzzChecks.document(bytes)
    FuzzChecks.certificate(bytes)
    FuzzChecks.revocation(bytes)
    FuzzChecks.text(bytes)
    FuzzChecks.membership(bytes)
    FuzzChecks.tasks(bytes)
    FuzzChecks.blobs(bytes)
    return 0
}

/// Writes a seed corpus of valid encodings (one of every kind) when `STARLING_FUZZ_SEED_DIR` is
/// set; libFuzzer calls this before it reads the corpus directories.
@_cdecl("LLVMFuzzerInitialize")
public func starlingFuzzInitialize(
    _ argc: UnsafeMutablePointer<CInt>?, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?
) -> CInt {
    if let directory = SeedCorpus.directoryFromEnvironment() { SeedCorpus.write(to: directory) }
    return 0
}

enum FuzzChecks {
    static func require(_ condition: Bool, _ message: @autoclosure () -> String) {
        if !condition { fatalError("fuzz property violated: \(message())") }
    }

    static func datagram(_ bytes: [UInt8]) {
        guard let envelope = try? Envelope(datagram: bytes) else { return }
        guard let again = try? envelope.datagram() else {
            return require(false, "a decoded datagram failed to re-encode")
        }
        require(again == bytes, "non-canonical datagram")
    }

    static func frame(_ bytes: [UInt8]) {
        let decoded: (envelope: Envelope, consumed: Int)?
        do {
            decoded = try Envelope.frame(from: bytes)
        } catch {
            return
        }
        guard let decoded else {
            // "Wait for more" is only right when the prefix or the announced body is incomplete.
            let complete = bytes.count >= 4
                && bytes.count >= 4 + Int(UInt32(bytes[0]) << 24 | UInt32(bytes[1]) << 16 | UInt32(bytes[2]) << 8 | UInt32(bytes[3]))
            return require(!complete, "a complete frame was reported as partial")
        }
        require(decoded.consumed >= 5 && decoded.consumed <= bytes.count, "frame consumed \(decoded.consumed) of \(bytes.count)")
        guard let again = try? decoded.envelope.frame() else {
            return require(false, "a decoded frame failed to re-encode")
        }
        require(again[...] == bytes.prefix(decoded.consumed), "non-canonical frame")
    }

    /// Membership datagram payloads and anti-entropy messages (what peers send each other).
    static func membership(_ bytes: [UInt8]) {
        var skipped = 0
        if let messages = try? MembershipMessage.decodeAll(bytes[...], skipped: &skipped), skipped == 0 {
            var writer = WireWriter()
            for message in messages { writer.write(message) }
            require(writer.bytes == bytes, "non-canonical membership messages")
        }
        if let request = try? SyncRequest(wireBytes: bytes) {
            require(request.wireBytes == bytes, "non-canonical sync request")
        }
        if let claims = try? SyncClaims(wireBytes: bytes) {
            require(claims.wireBytes == bytes, "non-canonical sync claims")
        }
        if let envelope = try? Envelope(streamMessage: bytes) {
            require((try? envelope.streamMessage()) == bytes, "non-canonical stream message")
        }
    }

    /// Task specs, signed specs, entries, whole task states and the task gossip messages.
    /// Blob manifests (canonical or refused) and sealed blob messages (refused without trapping;
    /// a random input opening under real keys would be a forgery).
    static func blobs(_ bytes: [UInt8]) {
        if let manifest = try? BlobManifest(wireBytes: bytes) {
            require(manifest.wireBytes == bytes, "non-canonical blob manifest")
            _ = manifest.id
        }
        _ = BlobSealing.isBlobRequest(bytes)
        if let received = try? BlobSealing.receive(bytes) {
            require((try? BlobSealing.open(received, keys: BlobFuzzKeys.server)) == nil || bytes == BlobFuzzKeys.sealedRequest,
                    "a blob request opened that was not sealed by the client")
        }
        if let response = try? BlobSealing.openResponse(bytes, to: BlobFuzzKeys.request, requestNonce: BlobFuzzKeys.nonce,
                                                        keys: BlobFuzzKeys.client) {
            require(bytes == BlobFuzzKeys.sealedResponse, "a blob response opened that the server did not seal: \(response)")
        }
    }

    static func tasks(_ bytes: [UInt8]) {
        func canonical<T: WireCodable>(_: T.Type, _ what: String) {
            if let value = try? T(wireBytes: bytes) { require(value.wireBytes == bytes, "non-canonical \(what)") }
        }
        canonical(TaskSpec.self, "task spec")
        canonical(SignedTaskSpec.self, "signed task spec")
        canonical(TaskEntry.self, "task entry")
        canonical(TaskState.self, "task state")
        canonical(TaskAdvert.self, "task advert")
        canonical(TaskPullRequest.self, "task pull request")
        canonical(TaskEntries.self, "task entries")
        if let state = try? TaskState(wireBytes: bytes) { _ = state.view }
        var malformed = 0
        _ = TaskAdvert.adverts(in: bytes[...], malformed: &malformed)
    }

    static func document(_ bytes: [UInt8]) {
        guard let document = try? TrustDocument.decode(bytes) else { return }
        require(document.encoded() == bytes, "non-canonical \(document.kind) file")
        require((try? TrustDocument.decode(bytes, expecting: document.kind)) != nil, "decode(expecting:) disagrees")
        switch document {
        case let .certificate(certificate): exercise(certificate)
        case let .revocation(revocation): exercise(revocation)
        default: break
        }
    }

    static func certificate(_ bytes: [UInt8]) {
        guard let certificate = try? Certificate(wireBytes: bytes) else { return }
        require(certificate.wireBytes == bytes, "non-canonical certificate")
        exercise(certificate)
    }

    static func revocation(_ bytes: [UInt8]) {
        guard let revocation = try? Revocation(wireBytes: bytes) else { return }
        require(revocation.wireBytes == bytes, "non-canonical revocation")
        exercise(revocation)
    }

    /// Verification must not trap on any decoded value (window arithmetic at the ends of the clock,
    /// role sets), and a value nobody signed must not verify.
    static func exercise(_ certificate: Certificate) {
        for now in [0, certificate.notBefore, certificate.notAfter, UInt64.max] {
            do {
                try certificate.verify(authority: certificate.authority, now: now, requiring: [.peer])
                require(certificate.hasValidSignature, "a certificate with a bad signature verified")
            } catch {
                continue
            }
        }
        _ = TrustError.expired(notAfter: certificate.notAfter, now: .max).description
        _ = certificate.roles.description
    }

    static func exercise(_ revocation: Revocation) {
        var list = RevocationList()
        if (try? list.insert(revocation, authority: revocation.authority)) != nil {
            require(list.revocation(of: revocation.node) == revocation, "an accepted revocation went missing")
        }
        _ = Timestamp.format(revocation.revokedAt)
    }

    /// The text parsers operators feed from the command line and config files.
    static func text(_ bytes: [UInt8]) {
        guard bytes.count <= 256, let text = String(validating: bytes, as: UTF8.self) else { return }
        if let decoded = try? Hex.decode(text) {
            require(Hex.encode(decoded) == text.lowercased(), "hex decoding accepted a non-hex form")
        }
        if let decoded = try? Base64.decode(text) {
            require(Base64.encode(decoded) == text, "base64 decoding is not canonical")
        }
        if let roles = try? Roles(text: text) {
            require((try? Roles(text: roles.description)) == roles, "roles text does not round-trip")
        }
        if let id = try? NodeID(text: text) {
            require((try? NodeID(text: id.text)) == id, "node id text does not round-trip")
        }
        if let seconds = try? Timestamp.parseDuration(text) {
            require(seconds > 0 && seconds <= TrustLimits.validityMax, "duration \(seconds) out of range")
        }
    }
}

/// Fixed keys and one genuine request and response, so the fuzzer can start from sealed messages.
enum BlobFuzzKeys {
    static let clientKey = try! SigningKey(seed: [UInt8](repeating: 0xB1, count: 32))
    static let serverKey = try! SigningKey(seed: [UInt8](repeating: 0xB2, count: 32))
    static let client = try! PairwiseKeys(local: clientKey, remote: serverKey.publicKey)
    static let server = try! PairwiseKeys(local: serverKey, remote: clientKey.publicKey)
    static let request = BlobRequest.chunk(ContentHash.of([1, 2, 3]), index: 2)
    static let sealed: BlobSealing.SealedRequest = {
        var random = DeterministicRandom(seed: 0xB10B)
        return BlobSealing.sealRequest(request, requester: clientKey.publicKey, keys: client, using: &random)
    }()
    static var sealedRequest: [UInt8] { sealed.bytes }
    static var nonce: [UInt8] { sealed.nonce }
    static let sealedResponse: [UInt8] = {
        var random = DeterministicRandom(seed: 0xB10C)
        return BlobSealing.sealResponse(.chunk([9, 8, 7]), to: request, requestNonce: sealed.nonce, keys: server, using: &random)
    }()
}
