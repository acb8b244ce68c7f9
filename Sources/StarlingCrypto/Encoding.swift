import CSodium

/// Hex text through libsodium (constant-time, so it is safe for secrets too). Output is lowercase;
/// input may be either case but nothing else (no spaces, no separators).
public enum Hex {
    public static func encode(_ bytes: [UInt8]) -> String {
        Sodium.ensureInitialized()
        var out = [CChar](repeating: 0, count: bytes.count * 2 + 1)
        sodium_bin2hex(&out, out.count, bytes, bytes.count)
        return String(decoding: out.prefix(bytes.count * 2).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public static func decode(_ text: String, what: String = "hex text") throws -> [UInt8] {
        Sodium.ensureInitialized()
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { throw CryptoError.invalidEncoding(what: what) }
        var out = [UInt8](repeating: 0, count: utf8.count / 2)
        var written = 0
        var end: UnsafePointer<CChar>? = nil
        let status = utf8.withUnsafeBufferPointer { input in
            input.withMemoryRebound(to: CChar.self) { chars in
                sodium_hex2bin(&out, out.count, chars.baseAddress, chars.count, nil, &written, &end)
            }
        }
        guard status == 0, written == out.count else { throw CryptoError.invalidEncoding(what: what) }
        return out
    }
}

/// Standard base64 with padding, through libsodium; strict on input.
public enum Base64 {
    private static let variant = Int32(sodium_base64_VARIANT_ORIGINAL)

    public static func encode(_ bytes: [UInt8]) -> String {
        Sodium.ensureInitialized()
        let length = sodium_base64_encoded_len(bytes.count, variant)
        var out = [CChar](repeating: 0, count: length)
        sodium_bin2base64(&out, length, bytes, bytes.count, variant)
        return String(decoding: out.prefix(length - 1).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public static func decode(_ text: String, what: String = "base64 text") throws -> [UInt8] {
        Sodium.ensureInitialized()
        let utf8 = Array(text.utf8)
        // libsodium 1.0.18 reads the text as (signed) `char` and its constant-time character
        // tests then take every byte >= 0x80 for '/', so "éé" would decode like "////".
        // The alphabet is ASCII: refuse anything else before libsodium sees it.
        guard utf8.allSatisfy({ $0 < 0x80 }) else { throw CryptoError.invalidEncoding(what: what) }
        var out = [UInt8](repeating: 0, count: utf8.count / 4 * 3 + 3)
        var written = 0
        var end: UnsafePointer<CChar>? = nil
        let status = utf8.withUnsafeBufferPointer { input in
            input.withMemoryRebound(to: CChar.self) { chars in
                sodium_base642bin(&out, out.count, chars.baseAddress, chars.count, nil, &written, &end, variant)
            }
        }
        let consumed = end.map { pointer in utf8.withUnsafeBufferPointer { input in
            input.withMemoryRebound(to: CChar.self) { pointer - $0.baseAddress! } } } ?? -1
        guard status == 0, consumed == utf8.count else { throw CryptoError.invalidEncoding(what: what) }
        return Array(out.prefix(written))
    }
}
