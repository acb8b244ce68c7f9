import Foundation

/// A tensor's `data`: row-major numbers, booleans or strings, flat or nested in arrays (the
/// protocol allows both; tritonclient sends it flat). Kept flat, with the nesting forgotten: the
/// tensor's `shape` says how to read it.
public enum TensorData: Codable, Equatable, Sendable {
    case numbers([Double])
    case booleans([Bool])
    case strings([String])

    public var count: Int {
        switch self {
        case let .numbers(values): return values.count
        case let .booleans(values): return values.count
        case let .strings(values): return values.count
        }
    }

    public init(from decoder: Decoder) throws {
        // The usual case first, in one call: a flat array of numbers (tritonclient's JSON form).
        // Element by element, each type tried and refused costs an error; that was a quarter of a
        // peer's CPU under load. (This toolchain's decoder refuses true as a number, so booleans
        // still go the long way.)
        if let flat = try? decoder.singleValueContainer().decode([Double].self) {
            guard flat.count <= InferenceAPILimits.elementsMax else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                        debugDescription: "data holds more than \(InferenceAPILimits.elementsMax) values"))
            }
            self = .numbers(flat)
            return
        }
        var numbers: [Double] = [], booleans: [Bool] = [], strings: [String] = []
        var container = try decoder.unkeyedContainer()
        try Self.flatten(&container, depth: 0, numbers: &numbers, booleans: &booleans, strings: &strings)
        let kinds = [numbers.isEmpty, booleans.isEmpty, strings.isEmpty].filter { !$0 }.count
        guard kinds <= 1 else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "data mixes numbers, booleans and strings"))
        }
        if !booleans.isEmpty { self = .booleans(booleans) }
        else if !strings.isEmpty { self = .strings(strings) }
        else { self = .numbers(numbers) }
    }

    private static func flatten(_ container: inout UnkeyedDecodingContainer, depth: Int,
                                numbers: inout [Double], booleans: inout [Bool], strings: inout [String]) throws {
        guard depth < InferenceAPILimits.nestingMax else {
            throw DecodingError.dataCorrupted(.init(codingPath: container.codingPath,
                                                    debugDescription: "data is nested deeper than \(InferenceAPILimits.nestingMax)"))
        }
        while !container.isAtEnd {
            if numbers.count + booleans.count + strings.count >= InferenceAPILimits.elementsMax {
                throw DecodingError.dataCorrupted(.init(codingPath: container.codingPath,
                                                        debugDescription: "data holds more than \(InferenceAPILimits.elementsMax) values"))
            }
            if var nested = try? container.nestedUnkeyedContainer() {
                try flatten(&nested, depth: depth + 1, numbers: &numbers, booleans: &booleans, strings: &strings)
            } else if let flag = try? container.decode(Bool.self) {
                booleans.append(flag)
            } else if let number = try? container.decode(Double.self) {
                numbers.append(number)
            } else {
                strings.append(try container.decode(String.self))
            }
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.unkeyedContainer()
        switch self {
        case let .numbers(values): try container.encode(contentsOf: values)
        case let .booleans(values): try container.encode(contentsOf: values)
        case let .strings(values): try container.encode(contentsOf: values)
        }
    }
}
