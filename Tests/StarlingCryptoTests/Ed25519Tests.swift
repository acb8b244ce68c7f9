import StarlingCrypto
import Testing

/// Ed25519 known answers from RFC 8032, section 7.1. Each vector fixes the seed, the public key it
/// derives, the message and the (deterministic) signature. The 1023-byte message of TEST 1024 was
/// cross-checked on the build machine with an independent implementation (Python `cryptography`).
struct Ed25519Vector: Sendable, CustomStringConvertible {
    let name: String
    let seed: String
    let publicKey: String
    let message: String
    let signature: String
    var description: String { name }
}

@Suite("Ed25519")
struct Ed25519Tests {
    static let rfc8032: [Ed25519Vector] = [
        Ed25519Vector(
            name: "TEST 1",
            seed: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
            publicKey: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
            message: "",
            signature: """
                e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b
                """),
        Ed25519Vector(
            name: "TEST 2",
            seed: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
            publicKey: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
            message: "72",
            signature: """
                92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00
                """),
        Ed25519Vector(
            name: "TEST 3",
            seed: "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
            publicKey: "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
            message: "af82",
            signature: """
                6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a
                """),
        Ed25519Vector(
            name: "TEST 1024",
            seed: "f5e5767cf153319517630f226876b86c8160cc583bc013744c6bf255f5cc0ee5",
            publicKey: "278117fc144c72340f67d0f2316e8386ceffbf2b2428c9c51fef7c597f1d426e",
            message: """
                08b8b2b733424243760fe426a4b54908632110a66c2f6591eabd3345e3e4eb98
                fa6e264bf09efe12ee50f8f54e9f77b1e355f6c50544e23fb1433ddf73be84d8
                79de7c0046dc4996d9e773f4bc9efe5738829adb26c81b37c93a1b270b20329d
                658675fc6ea534e0810a4432826bf58c941efb65d57a338bbd2e26640f89ffbc
                1a858efcb8550ee3a5e1998bd177e93a7363c344fe6b199ee5d02e82d522c4fe
                ba15452f80288a821a579116ec6dad2b3b310da903401aa62100ab5d1a36553e
                06203b33890cc9b832f79ef80560ccb9a39ce767967ed628c6ad573cb116dbef
                efd75499da96bd68a8a97b928a8bbc103b6621fcde2beca1231d206be6cd9ec7
                aff6f6c94fcd7204ed3455c68c83f4a41da4af2b74ef5c53f1d8ac70bdcb7ed1
                85ce81bd84359d44254d95629e9855a94a7c1958d1f8ada5d0532ed8a5aa3fb2
                d17ba70eb6248e594e1a2297acbbb39d502f1a8c6eb6f1ce22b3de1a1f40cc24
                554119a831a9aad6079cad88425de6bde1a9187ebb6092cf67bf2b13fd65f270
                88d78b7e883c8759d2c4f5c65adb7553878ad575f9fad878e80a0c9ba63bcbcc
                2732e69485bbc9c90bfbd62481d9089beccf80cfe2df16a2cf65bd92dd597b07
                07e0917af48bbb75fed413d238f5555a7a569d80c3414a8d0859dc65a46128ba
                b27af87a71314f318c782b23ebfe808b82b0ce26401d2e22f04d83d1255dc51a
                ddd3b75a2b1ae0784504df543af8969be3ea7082ff7fc9888c144da2af58429e
                c96031dbcad3dad9af0dcbaaaf268cb8fcffead94f3c7ca495e056a9b47acdb7
                51fb73e666c6c655ade8297297d07ad1ba5e43f1bca32301651339e22904cc8c
                42f58c30c04aafdb038dda0847dd988dcda6f3bfd15c4b4c4525004aa06eeff8
                ca61783aacec57fb3d1f92b0fe2fd1a85f6724517b65e614ad6808d6f6ee34df
                f7310fdc82aebfd904b01e1dc54b2927094b2db68d6f903b68401adebf5a7e08
                d78ff4ef5d63653a65040cf9bfd4aca7984a74d37145986780fc0b16ac451649
                de6188a7dbdf191f64b5fc5e2ab47b57f7f7276cd419c17a3ca8e1b939ae49e4
                88acba6b965610b5480109c8b17b80e1b7b750dfc7598d5d5011fd2dcc5600a3
                2ef5b52a1ecc820e308aa342721aac0943bf6686b64b2579376504ccc493d97e
                6aed3fb0f9cd71a43dd497f01f17c0e2cb3797aa2a2f256656168e6c496afc5f
                b93246f6b1116398a346f1a641f3b041e989f7914f90cc2c7fff357876e506b5
                0d334ba77c225bc307ba537152f3f1610e4eafe595f6d9d90d11faa933a15ef1
                369546868a7f3a45a96768d40fd9d03412c091c6315cf4fde7cb68606937380d
                b2eaaa707b4c4185c32eddcdd306705e4dc1ffc872eeee475a64dfac86aba41c
                0618983f8741c5ef68d3a101e8a3b8cac60c905c15fc910840b94c00a0b9d0
                """,
            signature: """
                0aab4c900501b3e24d7cdf4663326a3a87df5e4843b2cbdb67cbf6e460fec350aa5371b1508f9f4528ecea23c436d94b5e8fcd4f681e30a6ac00a9704a188a03
                """),
    ]

    @Test("RFC 8032 known answers: key derivation, signing, verification", arguments: rfc8032)
    func knownAnswers(vector: Ed25519Vector) throws {
        let key = try SigningKey(seed: bytes(hex: vector.seed))
        let message = bytes(hex: vector.message)
        let expected = bytes(hex: vector.signature)
        #expect(key.publicKey.bytes == bytes(hex: vector.publicKey))
        #expect(key.seed.copiedBytes == bytes(hex: vector.seed))
        let signature = key.sign(message)
        #expect(hexString(signature.bytes) == hexString(expected))
        #expect(key.publicKey.isValidSignature(try Signature(bytes: expected), for: message))
    }

    @Test("the TEST 1024 message is the RFC's 1023 bytes")
    func longMessageLength() {
        #expect(bytes(hex: Self.rfc8032[3].message).count == 1023)
    }

    @Test("any flipped bit of signature, message or key fails verification", arguments: rfc8032)
    func tamper(vector: Ed25519Vector) throws {
        let publicKey = try PublicKey(bytes: bytes(hex: vector.publicKey))
        let message = bytes(hex: vector.message)
        let signature = bytes(hex: vector.signature)
        for index in signature.indices {
            for mask: UInt8 in [0x01, 0x80] {
                var bad = signature
                bad[index] ^= mask
                #expect(!publicKey.isValidSignature(try Signature(bytes: bad), for: message), "signature byte \(index)")
            }
        }
        for index in message.indices.prefix(64) {
            var bad = message
            bad[index] ^= 0x01
            #expect(!publicKey.isValidSignature(try Signature(bytes: signature), for: bad), "message byte \(index)")
        }
        #expect(!publicKey.isValidSignature(try Signature(bytes: signature), for: message + [0]))
        for index in publicKey.bytes.indices {
            var bad = publicKey.bytes
            bad[index] ^= 0x01
            #expect(!(try PublicKey(bytes: bad)).isValidSignature(try Signature(bytes: signature), for: message), "key byte \(index)")
        }
    }

    @Test("a key pair from a seed is reproducible; the seed fixes the key")
    func seedReproducible() throws {
        let seed = [UInt8](repeating: 0x42, count: SigningKey.seedByteCount)
        let first = try SigningKey(seed: seed)
        let second = try SigningKey(seed: seed)
        #expect(first.publicKey == second.publicKey)
        #expect(first.sign([1, 2, 3]) == second.sign([1, 2, 3]))
        var other = seed
        other[31] ^= 1
        #expect(try SigningKey(seed: other).publicKey != first.publicKey)

        var generatorA = DeterministicRandom(seed: 99)
        var generatorB = DeterministicRandom(seed: 99)
        let generatedA = SigningKey.generate(using: &generatorA)
        let generatedB = SigningKey.generate(using: &generatorB)
        #expect(generatedA.publicKey == generatedB.publicKey)
        #expect(generatedA.seed == generatedB.seed)
        var generatorC = DeterministicRandom(seed: 100)
        #expect(SigningKey.generate(using: &generatorC).publicKey != generatedA.publicKey)
        #expect(SigningKey.generate().publicKey != SigningKey.generate().publicKey)
    }

    @Test("sign then verify, for messages of many lengths")
    func signVerify() throws {
        var random = DeterministicRandom(seed: 5)
        let key = SigningKey.generate(using: &random)
        let other = SigningKey.generate(using: &random)
        for length in [0, 1, 63, 64, 65, 1200, 4096] {
            let message = randomBytes(count: length, using: &random)
            let signature = key.sign(message)
            #expect(key.publicKey.isValidSignature(signature, for: message))
            #expect(!other.publicKey.isValidSignature(signature, for: message))
        }
    }

    @Test("keys, seeds and signatures of the wrong length are refused")
    func wrongLengths() {
        #expect(throws: CryptoError.wrongLength(what: "key seed", expected: 32, actual: 31)) {
            try SigningKey(seed: [UInt8](repeating: 0, count: 31))
        }
        #expect(throws: CryptoError.wrongLength(what: "public key", expected: 32, actual: 33)) {
            try PublicKey(bytes: [UInt8](repeating: 0, count: 33))
        }
        #expect(throws: CryptoError.wrongLength(what: "signature", expected: 64, actual: 0)) {
            try Signature(bytes: [])
        }
    }

    @Test("public keys order by their bytes")
    func publicKeyOrder() throws {
        let low = try PublicKey(bytes: [0] + [UInt8](repeating: 0xFF, count: 31))
        let high = try PublicKey(bytes: [1] + [UInt8](repeating: 0, count: 31))
        #expect(low < high)
        #expect(!(high < low))
    }
}
