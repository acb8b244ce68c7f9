/// `InferResponse` written as JSON directly, keys sorted as the encoder sorts them: an answer per
/// request went through Foundation's JSONEncoder for a sixth of a loaded peer's CPU. Only
/// writing: reading stays with Foundation's decoder. Nil when a number is not finite (JSON has no
/// form for it; the encoder refuses it too).
extension InferResponse {
    public func directJSON() -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(256 + outputs.reduce(0) { $0 + $1.data.count * 12 })
        out.append(UInt8(ascii: "{"))
        var first = true
        func key(_ name: String) {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            JSONText.string(name, to: &out)
            out.append(UInt8(ascii: ":"))
        }
        if let id { key("id"); JSONText.string(id, to: &out) }
        key("model_name")
        JSONText.string(modelName, to: &out)
        if let modelVersion { key("model_version"); JSONText.string(modelVersion, to: &out) }
        key("outputs")
        out.append(UInt8(ascii: "["))
        for (index, output) in outputs.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            guard JSONText.tensor(output, to: &out) else { return nil }
        }
        out.append(UInt8(ascii: "]"))
        if let parameters {
            key("parameters")
            guard JSONText.parameters(parameters, to: &out) else { return nil }
        }
        out.append(UInt8(ascii: "}"))
        return out
    }
}

/// The pieces of `InferResponse.directJSON`.
enum JSONText {
    static func string(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    static func number(_ value: Double, to out: inout [UInt8]) -> Bool {
        guard value.isFinite else { return false }
        if value == value.rounded(), abs(value) < 1e15 {
            out += Array(String(Int64(value)).utf8)
        } else {
            out += Array(value.description.utf8)
        }
        return true
    }

    static func tensor(_ tensor: InferTensor, to out: inout [UInt8]) -> Bool {
        out += Array(#"{"data":["#.utf8)
        switch tensor.data {
        case let .numbers(values):
            for (index, value) in values.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                guard number(value, to: &out) else { return false }
            }
        case let .booleans(values):
            out += Array(values.map { $0 ? "true" : "false" }.joined(separator: ",").utf8)
        case let .strings(values):
            for (index, value) in values.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                string(value, to: &out)
            }
        }
        out += Array(#"],"datatype":"#.utf8)
        string(tensor.datatype, to: &out)
        out += Array(#","name":"#.utf8)
        string(tensor.name, to: &out)
        if let parameters = tensor.parameters {
            out += Array(#","parameters":"#.utf8)
            guard self.parameters(parameters, to: &out) else { return false }
        }
        out += Array(#","shape":["#.utf8) + Array(tensor.shape.map(String.init).joined(separator: ",").utf8) + Array("]}".utf8)
        return true
    }

    static func parameters(_ parameters: [String: InferParameter], to out: inout [UInt8]) -> Bool {
        out.append(UInt8(ascii: "{"))
        for (index, name) in parameters.keys.sorted().enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            string(name, to: &out)
            out.append(UInt8(ascii: ":"))
            switch parameters[name]! {
            case let .string(text): string(text, to: &out)
            case let .number(value): guard number(value, to: &out) else { return false }
            case let .bool(flag): out += Array((flag ? "true" : "false").utf8)
            }
        }
        out.append(UInt8(ascii: "}"))
        return true
    }
}
