// starling-bench-crypto: Ed25519 sign/s and verify/s for a 1200-byte message (the datagram limit),
// through Starling's wrappers (`SigningKey.sign`, `PublicKey.isValidSignature`) and through direct
// libsodium calls (`crypto_sign_detached`, `crypto_sign_verify_detached`), in the same run.
//
//     swift run -c release starling-bench-crypto
//
// Each figure is the best of several repetitions; the four measurements are interleaved within a
// repetition so that frequency scaling or a noisy neighbour hits all of them alike. Time is the
// thread's CPU time (CLOCK_THREAD_CPUTIME_ID), so other processes on a shared 2-core machine do not
// count against us; on an idle core it equals wall time. The hot loops live in functions
// (top-level code in main.swift is compiled with globals and runs much slower).
import CSodium
import StarlingCrypto
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

let messageByteCount = 1200
let repetitions = 15
let signIterations = 2000
let verifyIterations = 800

/// CPU time of the calling thread, in seconds.
func threadCPUSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) * 1e-9
}

/// Runs `iterations` calls of `body` and returns operations per second. `body` returns a byte of
/// its result, folded into a sink so the optimiser cannot drop the work.
@inline(never)
func opsPerSecond(iterations: Int, _ body: () -> UInt8) -> Double {
    var sink: UInt8 = 0
    let start = threadCPUSeconds()
    for _ in 0..<iterations { sink ^= body() }
    let elapsed = threadCPUSeconds() - start
    if sink == 0x5A && elapsed < 0 { print("unreachable", sink) }
    return Double(iterations) / elapsed
}

@inline(never)
func wrapperSign(_ key: SigningKey, _ message: [UInt8]) -> Double {
    opsPerSecond(iterations: signIterations) { key.sign(message).bytes[0] }
}

@inline(never)
func rawSign(_ secretKey: [UInt8], _ message: [UInt8]) -> Double {
    var signature = [UInt8](repeating: 0, count: Int(crypto_sign_BYTES))
    return message.withUnsafeBufferPointer { messagePointer in
        secretKey.withUnsafeBufferPointer { secretPointer in
            signature.withUnsafeMutableBufferPointer { signaturePointer in
                opsPerSecond(iterations: signIterations) {
                    _ = crypto_sign_detached(
                        signaturePointer.baseAddress!, nil, messagePointer.baseAddress!, UInt64(messagePointer.count),
                        secretPointer.baseAddress!)
                    return signaturePointer[0]
                }
            }
        }
    }
}

@inline(never)
func wrapperVerify(_ publicKey: PublicKey, _ signature: Signature, _ message: [UInt8]) -> Double {
    opsPerSecond(iterations: verifyIterations) { publicKey.isValidSignature(signature, for: message) ? 1 : 0 }
}

@inline(never)
func rawVerify(_ publicKey: [UInt8], _ signature: [UInt8], _ message: [UInt8]) -> Double {
    message.withUnsafeBufferPointer { messagePointer in
        publicKey.withUnsafeBufferPointer { keyPointer in
            signature.withUnsafeBufferPointer { signaturePointer in
                opsPerSecond(iterations: verifyIterations) {
                    crypto_sign_verify_detached(
                        signaturePointer.baseAddress!, messagePointer.baseAddress!, UInt64(messagePointer.count),
                        keyPointer.baseAddress!) == 0 ? 1 : 0
                }
            }
        }
    }
}

func pad(_ text: String, _ width: Int) -> String {
    String(repeating: " ", count: max(0, width - text.count)) + text
}

/// `value` with exactly `decimals` digits after the point (no Foundation in this target).
func formatted(_ value: Double, decimals: Int) -> String {
    var scale = 1
    for _ in 0..<decimals { scale *= 10 }
    let scaled = Int((value * Double(scale)).rounded())
    let whole = String(scaled / scale)
    guard decimals > 0 else { return whole }
    let fraction = String(scaled % scale)
    return whole + "." + String(repeating: "0", count: decimals - fraction.count) + fraction
}

func run() -> Int32 {
    guard sodium_init() >= 0 else {
        print("libsodium failed to initialise")
        return 1
    }
    let seed = [UInt8](repeating: 0x42, count: SigningKey.seedByteCount)
    let key = try! SigningKey(seed: seed)
    var rawPublic = [UInt8](repeating: 0, count: Int(crypto_sign_PUBLICKEYBYTES))
    var rawSecret = [UInt8](repeating: 0, count: Int(crypto_sign_SECRETKEYBYTES))
    _ = crypto_sign_seed_keypair(&rawPublic, &rawSecret, seed)
    var generator = DeterministicRandom(seed: 1200)
    let message = randomBytes(count: messageByteCount, using: &generator)

    // Both paths must compute the same thing before their speeds mean anything.
    let signature = key.sign(message)
    var rawSignature = [UInt8](repeating: 0, count: Int(crypto_sign_BYTES))
    _ = crypto_sign_detached(&rawSignature, nil, message, UInt64(message.count), rawSecret)
    guard rawPublic == key.publicKey.bytes, rawSignature == signature.bytes,
          key.publicKey.isValidSignature(signature, for: message),
          crypto_sign_verify_detached(rawSignature, message, UInt64(message.count), rawPublic) == 0
    else {
        print("the wrapper and libsodium disagree")
        return 1
    }

    // Warm up caches and the CPU clock.
    _ = wrapperSign(key, message)
    _ = rawVerify(rawPublic, rawSignature, message)

    var best = (wrapperSign: 0.0, rawSign: 0.0, wrapperVerify: 0.0, rawVerify: 0.0)
    for _ in 0..<repetitions {
        best.wrapperSign = max(best.wrapperSign, wrapperSign(key, message))
        best.rawSign = max(best.rawSign, rawSign(rawSecret, message))
        best.wrapperVerify = max(best.wrapperVerify, wrapperVerify(key.publicKey, signature, message))
        best.rawVerify = max(best.rawVerify, rawVerify(rawPublic, rawSignature, message))
    }

    print("Ed25519, \(messageByteCount)-byte message, best of \(repetitions) runs (sign x\(signIterations), verify x\(verifyIterations)), per CPU-second")
    print("")
    print("| operation | Starling wrapper (ops/s) | raw libsodium (ops/s) | wrapper / raw | wrapper µs/op |")
    print("|-----------|-------------------------:|----------------------:|--------------:|--------------:|")
    for (name, wrapper, raw) in [("sign", best.wrapperSign, best.rawSign), ("verify", best.wrapperVerify, best.rawVerify)] {
        print("| \(name.padding(9)) | \(pad(formatted(wrapper, decimals: 0), 24)) | \(pad(formatted(raw, decimals: 0), 21)) | \(pad(formatted(wrapper / raw, decimals: 3), 13)) | \(pad(formatted(1e6 / wrapper, decimals: 1), 13)) |")
    }
    return 0
}

extension String {
    func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
}

exit(run())
