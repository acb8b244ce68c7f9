import StarlingWire

/// Encoding helpers shared by the spec types. Every value has one encoding: reals are finite and
/// never -0, durations are whole milliseconds, sets (tags, parameters) are sorted with unique keys,
/// and the reader refuses anything else, so "decode, then encode" gives back the same bytes.
extension WireWriter {
    mutating func writeOptionalString(_ text: String?) {
        if let text {
            write(true)
            writeString(text)
        } else {
            write(false)
        }
    }

    mutating func writeReal(_ value: Double) {
        precondition(value.isFinite && value.bitPattern != (-0.0).bitPattern, "spec reals are finite and never -0")
        write(value.bitPattern)
    }

    mutating func writeDuration(_ duration: Duration) {
        writeVarint(UInt64(ScalarText.durationMilliseconds(duration)))
    }

    mutating func writeCount(_ value: Int) { writeVarint(value) }
}

extension WireReader {
    mutating func readText(_ field: String, limit: Int = TaskSpecLimits.stringBytesMax) throws -> String {
        let text = try readString(field: field, limit: limit)
        guard !text.isEmpty, ScalarText.isPrintable(text) else { throw WireError.invalidField("\(field) is empty or has control characters") }
        return text
    }

    mutating func readOptionalText(_ field: String, limit: Int = TaskSpecLimits.stringBytesMax) throws -> String? {
        try readBool(field: field) ? try readText(field, limit: limit) : nil
    }

    mutating func readLabel(_ field: String) throws -> String {
        let text = try readString(field: field, limit: TaskSpecLimits.labelBytesMax)
        guard ScalarText.isDNSLabel(text) else { throw WireError.invalidField("\(field) is not a DNS-1123 label") }
        return text
    }

    mutating func readReal(_ field: String) throws -> Double {
        let bits = try readUInt64()
        let value = Double(bitPattern: bits)
        guard value.isFinite, bits != (-0.0).bitPattern else { throw WireError.invalidValue(field: field, value: bits) }
        return value
    }

    mutating func readInteger(_ field: String, in range: ClosedRange<Int>) throws -> Int {
        let value = try readVarint()
        guard value >= UInt64(max(0, range.lowerBound)), value <= UInt64(range.upperBound) else {
            throw WireError.invalidValue(field: field, value: value)
        }
        return Int(value)
    }

    mutating func readDuration(_ field: String, in range: ClosedRange<Duration>) throws -> Duration {
        let milliseconds = try readVarint()
        guard milliseconds <= UInt64(Int64.max / 2) else { throw WireError.invalidValue(field: field, value: milliseconds) }
        let duration = Duration.milliseconds(Int64(milliseconds))
        guard range.contains(duration) else { throw WireError.invalidValue(field: field, value: milliseconds) }
        return duration
    }

    /// A list whose elements must be in strictly increasing order of `key` (a set in canonical order).
    mutating func readSortedList<T: WireDecodable>(_: T.Type, field: String, limit: Int, key: (T) -> String) throws -> [T] {
        let values = try readList(T.self, field: field, limit: limit)
        for index in values.indices.dropFirst() where key(values[index - 1]) >= key(values[index]) {
            throw WireError.invalidField("\(field) is not sorted by key with unique keys")
        }
        return values
    }
}
