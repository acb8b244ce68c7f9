#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import StarlingBlobs
import StarlingCrypto
import StarlingTrust
import StarlingWire

/// Valid encodings of every input kind, so the fuzzer starts from inputs that pass the magic,
/// checksum, length and name checks and spends its time mutating deep fields.
enum SeedCorpus {
    static func directoryFromEnvironment() -> String? {
        guard let value = getenv("STARLING_FUZZ_SEED_DIR") else { return nil }
        let path = String(cString: value)
        return path.isEmpty ? nil : path
    }

    static func seeds() -> [(name: String, bytes: [UInt8])] {
        func key(_ fill: UInt8) -> SigningKey { try! SigningKey(seed: [UInt8](repeating: fill, count: 32)) }
        let authority = Authority(signingKey: key(0xA0))
        let node = NodeID(key(1).publicKey)
        let certificate = try! authority.admit(node, name: "node-a", roles: [.peer, .coordinator], now: 1_800_000_000, validFor: 86_400 * 30)
        let revocation = try! authority.revoke(node, now: 1_800_000_100, reason: "key lost")
        var random = DeterministicRandom(seed: 1)
        let keyring = try! Keyring(keys: (0..<3).map { _ in SymmetricKey.generate(using: &random) }, primaryIndex: 1)
        let documents: [TrustDocument] = [
            .identity(key(1)), .authoritySecret(authority.signingKey), .authorityPublic(authority.publicKey),
            .certificate(certificate), .revocation(revocation), .keyring(keyring), .keyring(Keyring()),
        ]
        var seeds: [(String, [UInt8])] = documents.enumerated().map { ("seed-document-\($0.offset)", $0.element.encoded()) }
        seeds.append(("seed-certificate", certificate.wireBytes))
        seeds.append(("seed-revocation", revocation.wireBytes))
        for (index, envelope) in [
            Envelope(tag: .certificate, message: certificate), Envelope(tag: .revocation, message: revocation),
            Envelope(tag: .certificate, body: []),
        ].enumerated() {
            seeds.append(("seed-datagram-\(index)", try! envelope.datagram()))
            seeds.append(("seed-frame-\(index)", try! envelope.frame()))
        }
        seeds.append(("seed-text-roles", Array("peer,coordinator".utf8)))
        seeds.append(("seed-text-node", Array(node.text.utf8)))
        seeds.append(("seed-text-base64", Array(Base64.encode([1, 2, 3, 4]).utf8)))
        seeds.append(("seed-text-duration", Array("365d".utf8)))
        seeds.append(("seed-blob-manifest", try! BlobManifest(of: [UInt8](repeating: 7, count: 2_500), chunkBytes: 1_000).wireBytes))
        seeds.append(("seed-blob-request", BlobFuzzKeys.sealedRequest))
        seeds.append(("seed-blob-response", BlobFuzzKeys.sealedResponse))
        return seeds
    }

    static func write(to directory: String) {
        for (name, bytes) in seeds() {
            guard let file = fopen(directory + "/" + name, "wb") else { continue }
            _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
            fclose(file)
        }
    }
}
