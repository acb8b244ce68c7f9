/// Helpers shared by the test targets (a library only tests depend on).

/// One random edit of `bytes`: flip bits of a byte, insert or delete a byte, or widen a one-byte
/// varint into an overlong two-byte form (`x` becomes `x|0x80, 0x00`), which a random flip almost
/// never produces but a lax varint decoder would accept.
public func mutate<R: RandomNumberGenerator>(_ bytes: [UInt8], using random: inout R) -> [UInt8] {
    var result = bytes
    guard !result.isEmpty else { return [UInt8.random(in: 0...255, using: &random)] }
    let index = Int.random(in: 0..<result.count, using: &random)
    switch Int.random(in: 0..<4, using: &random) {
    case 0: result[index] ^= UInt8.random(in: 1...255, using: &random)
    case 1: result.insert(UInt8.random(in: 0...255, using: &random), at: index)
    case 2: result.remove(at: index)
    default:
        if result[index] < 0x80 {
            result[index] |= 0x80
            result.insert(0, at: index + 1)
        } else {
            result[index] ^= 0x80
        }
    }
    return result
}
