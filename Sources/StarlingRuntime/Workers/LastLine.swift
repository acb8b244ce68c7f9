import Foundation

/// The last non-blank line of a stream that arrives in chunks: what a failed worker is reported
/// with. A line is only taken once whole (a pipe may deliver `ModuleNotFoundError` and
/// `: No module named 'starling'` in two reads), or at the end of the stream (`finish`).
struct LastLine {
    /// Longest line kept (the rest of a longer line is dropped): reasons travel in signed reports.
    static let bytesMax = 200

    private(set) var line = ""
    private var partial: [UInt8] = []
    /// The line being assembled is over `bytesMax` already: its end is dropped.
    private var partialIsLong = false

    mutating func append(_ bytes: [UInt8]) {
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                take()
            } else if partial.count < Self.bytesMax * 4 {  // room for multi-byte characters
                partial.append(byte)
            } else {
                partialIsLong = true
            }
        }
    }

    /// The stream ended: a last line without a newline counts too.
    mutating func finish() { take() }

    private mutating func take() {
        let text = String(decoding: partial, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        partial.removeAll(keepingCapacity: true)
        partialIsLong = false
        if !text.isEmpty { line = String(text.prefix(Self.bytesMax)) }
    }
}
