import Foundation

/// Triton's binary tensor data extension, which the unmodified `tritonclient[http]` uses by
/// default: a body whose first `Inference-Header-Content-Length` bytes are the JSON request and
/// whose rest is each binary input's raw tensor, in input order, sized by the input's
/// `binary_data_size` parameter. Raw tensors are little-endian and row-major without padding; BOOL
/// is one byte (0 or 1); BYTES is, per element, a 4-byte little-endian length and the bytes.
///
/// Requests are decoded into the same `InferRequest` (numbers in `TensorData`, the size parameter
/// dropped), so the backend never sees the difference. Answers go out in the binary form for the
/// outputs the request asked so (`binary_data: true` on the output, or the request's
/// `binary_data_output: true` for outputs that do not say): the JSON header then carries
/// `binary_data_size` in place of `data`. An output that has no exact binary form in its datatype
/// (FP16, a fraction in an integer type) is answered as JSON, which the protocol allows per output.
public enum BinaryTensorData {
    /// The HTTP header giving the JSON part's length, in requests and answers.
    public static let headerLengthField = "Inference-Header-Content-Length"
    /// On an input or an answered output: the raw tensor's length in bytes.
    public static let sizeParameter = "binary_data_size"
    /// On a requested output: answer it in binary.
    public static let outputParameter = "binary_data"
    /// On the request: answer every output that does not say otherwise in binary.
    public static let requestOutputParameter = "binary_data_output"

    /// Bytes per element of each fixed-size datatype (BYTES has none).
    public static let elementBytes: [String: Int] = [
        "BOOL": 1, "UINT8": 1, "INT8": 1, "UINT16": 2, "INT16": 2, "FP16": 2, "BF16": 2,
        "UINT32": 4, "INT32": 4, "FP32": 4, "UINT64": 8, "INT64": 8, "FP64": 8,
    ]

    // MARK: Requests

    /// The request in `body`, whose first `headerLength` bytes are its JSON.
    public static func request(body: [UInt8], headerLength: Int) throws(InferenceAPIError) -> InferRequest {
        guard headerLength >= 0, headerLength <= body.count else {
            throw InferenceAPIError(.badRequest, "\(headerLengthField) \(headerLength) is not within the body's \(body.count) bytes")
        }
        let header = try InferenceJSON.decode(WireRequest.self, from: Data(body[0..<headerLength]))
        guard header.inputs.count <= InferenceAPILimits.inputsMax else {
            throw InferenceAPIError(.badRequest, "\(header.inputs.count) inputs; at most \(InferenceAPILimits.inputsMax)")
        }
        var offset = headerLength
        var inputs: [InferTensor] = []
        for input in header.inputs {
            var parameters = input.parameters ?? [:]
            let size = parameters.removeValue(forKey: sizeParameter)
            let data: TensorData
            switch (size, input.data) {
            case (nil, let json?):
                data = json
            case (nil, nil):
                throw InferenceAPIError(.badRequest, "input \(input.name): neither data nor the \(sizeParameter) parameter")
            case (_?, _?):
                throw InferenceAPIError(.badRequest, "input \(input.name): both data and the \(sizeParameter) parameter")
            case let (size?, nil):
                guard case let .number(number) = size, let bytes = Int(exactly: number), bytes >= 0 else {
                    throw InferenceAPIError(.badRequest, "input \(input.name): \(sizeParameter) is not a byte count")
                }
                guard bytes <= body.count - offset else {
                    throw InferenceAPIError(.badRequest,
                                            "input \(input.name): \(sizeParameter) \(bytes) passes the end of the body (\(body.count - offset) bytes left)")
                }
                data = try tensor(input, raw: body[offset..<offset + bytes])
                offset += bytes
            }
            inputs.append(InferTensor(name: input.name, shape: input.shape, datatype: input.datatype,
                                      parameters: parameters.isEmpty ? nil : parameters, data: data))
        }
        guard offset == body.count else {
            throw InferenceAPIError(.badRequest, "the body has \(body.count - offset) bytes after the inputs' binary data")
        }
        return InferRequest(id: header.id, parameters: header.parameters, inputs: inputs, outputs: header.outputs)
    }

    /// The request's JSON header as sent: an input's `data` may be missing.
    private struct WireRequest: Decodable {
        var id: String?
        var parameters: [String: InferParameter]?
        var inputs: [WireInput]
        var outputs: [RequestedOutput]?
    }

    private struct WireInput: Decodable {
        var name: String
        var shape: [Int]
        var datatype: String
        var parameters: [String: InferParameter]?
        var data: TensorData?
    }

    /// One input's raw bytes as values.
    private static func tensor(_ input: WireInput, raw: ArraySlice<UInt8>) throws(InferenceAPIError) -> TensorData {
        let name = "input \(input.name)"
        var count = 1
        for dimension in input.shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard dimension >= 0, !overflow else {
                throw InferenceAPIError(.badRequest, "\(name): shape \(input.shape) is not a tensor's")
            }
            count = product
        }
        guard count <= InferenceAPILimits.elementsMax else {
            throw InferenceAPIError(.payloadTooLarge, "\(name): shape \(input.shape) holds more than \(InferenceAPILimits.elementsMax) values")
        }
        if input.datatype == "BYTES" { return try strings(raw, count: count, name: name) }
        guard let width = elementBytes[input.datatype] else {
            throw InferenceAPIError(.badRequest, "\(name): datatype \(input.datatype) has no binary form")
        }
        guard raw.count == count * width else {
            throw InferenceAPIError(.badRequest,
                                    "\(name): shape \(input.shape) of \(input.datatype) needs \(count * width) bytes; \(sizeParameter) is \(raw.count)")
        }
        let start = raw.startIndex
        if input.datatype == "BOOL" {
            return .booleans(raw.map { $0 != 0 })
        }
        var values: [Double] = []
        values.reserveCapacity(count)
        for index in 0..<count {
            let at = start + index * width
            let value: Double
            switch input.datatype {
            case "UINT8": value = Double(raw[at])
            case "INT8": value = Double(Int8(bitPattern: raw[at]))
            case "UINT16": value = Double(load(UInt16.self, raw, at))
            case "INT16": value = Double(Int16(bitPattern: load(UInt16.self, raw, at)))
            case "FP16": value = Double(float(half: load(UInt16.self, raw, at)))
            case "BF16": value = Double(Float(bitPattern: UInt32(load(UInt16.self, raw, at)) << 16))
            case "UINT32": value = Double(load(UInt32.self, raw, at))
            case "INT32": value = Double(Int32(bitPattern: load(UInt32.self, raw, at)))
            case "FP32": value = Double(Float(bitPattern: load(UInt32.self, raw, at)))
            case "UINT64": value = Double(load(UInt64.self, raw, at))
            case "INT64": value = Double(Int64(bitPattern: load(UInt64.self, raw, at)))
            case "FP64": value = Double(bitPattern: load(UInt64.self, raw, at))
            default: preconditionFailure("elementBytes lists \(input.datatype) without a reader")
            }
            values.append(value)
        }
        return .numbers(values)
    }

    /// BYTES: per element a 4-byte little-endian length and that many bytes, read as UTF-8.
    private static func strings(_ raw: ArraySlice<UInt8>, count: Int, name: String) throws(InferenceAPIError) -> TensorData {
        var values: [String] = []
        var at = raw.startIndex
        while at < raw.endIndex {
            guard raw.endIndex - at >= 4 else {
                throw InferenceAPIError(.badRequest, "\(name): BYTES element \(values.count) has a cut length")
            }
            let length = Int(load(UInt32.self, raw, at))
            at += 4
            guard length <= raw.endIndex - at else {
                throw InferenceAPIError(.badRequest, "\(name): BYTES element \(values.count) of \(length) bytes passes the tensor's end")
            }
            guard let text = String(validating: raw[at..<at + length], as: UTF8.self) else {
                throw InferenceAPIError(.badRequest, "\(name): BYTES element \(values.count) is not UTF-8")
            }
            values.append(text)
            at += length
        }
        guard values.count == count else {
            throw InferenceAPIError(.badRequest, "\(name): shape needs \(count) BYTES elements; the data has \(values.count)")
        }
        return .strings(values)
    }

    private static func load<T: FixedWidthInteger & UnsignedInteger>(_: T.Type, _ raw: ArraySlice<UInt8>, _ at: Int) -> T {
        var value: T = 0
        for byte in 0..<(T.bitWidth / 8) { value |= T(raw[at + byte]) << (byte * 8) }
        return value
    }

    /// An IEEE 754 half (FP16) as a Float, exactly (every half is a float).
    static func float(half bits: UInt16) -> Float {
        let sign: Float = bits & 0x8000 == 0 ? 1 : -1
        let exponent = Int(bits >> 10) & 0x1f
        let fraction = Float(bits & 0x3ff)
        switch exponent {
        case 0: return sign * fraction * 0x1p-24
        case 0x1f: return fraction == 0 ? sign * .infinity : .nan
        default: return sign * (1 + fraction / 1024) * Float(sign: .plus, exponent: exponent - 15, significand: 1)
        }
    }

    // MARK: Answers

    /// Whether the output named `name` is to be answered in binary, by `request`'s parameters.
    public static func wantsBinary(_ name: String, in request: InferRequest) -> Bool {
        if let asked = request.outputs?.first(where: { $0.name == name }),
           case let .bool(binary)? = asked.parameters?[outputParameter] {
            return binary
        }
        if case let .bool(binary)? = request.parameters?[requestOutputParameter] { return binary }
        return false
    }

    /// Whether any output could be answered in binary: else the answer is plain JSON.
    public static func asksBinary(_ request: InferRequest) -> Bool {
        if case .bool(true)? = request.parameters?[requestOutputParameter] { return true }
        return request.outputs?.contains { $0.parameters?[outputParameter] == .bool(true) } ?? false
    }

    /// An answer's body and, when some output went binary, the length of its JSON header.
    public struct EncodedResponse: Equatable, Sendable {
        public var body: [UInt8]
        /// Nil: the body is plain JSON.
        public var headerLength: Int?
    }

    /// `response` with the outputs `binary` picks in the binary form where they have one.
    public static func response(_ response: InferResponse, binary: (InferTensor) -> Bool) -> EncodedResponse {
        var raw: [UInt8] = []
        var outputs: [WireOutput] = []
        for output in response.outputs {
            let start = raw.count
            if binary(output), appendRaw(output, to: &raw) {
                var parameters = output.parameters ?? [:]
                parameters[sizeParameter] = .number(Double(raw.count - start))
                outputs.append(WireOutput(name: output.name, shape: output.shape, datatype: output.datatype,
                                          parameters: parameters, data: nil))
            } else {
                outputs.append(WireOutput(name: output.name, shape: output.shape, datatype: output.datatype,
                                          parameters: output.parameters, data: output.data))
            }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        if raw.isEmpty && !outputs.contains(where: { $0.data == nil }) {
            if let direct = response.directJSON() { return EncodedResponse(body: direct, headerLength: nil) }
            // Every Codable value here encodes; a failure is a bug in the message types.
            let json = try! encoder.encode(response)
            return EncodedResponse(body: Array(json), headerLength: nil)
        }
        let header = WireResponse(modelName: response.modelName, modelVersion: response.modelVersion, id: response.id,
                                  parameters: response.parameters, outputs: outputs)
        let json = Array(try! encoder.encode(header))
        return EncodedResponse(body: json + raw, headerLength: json.count)
    }

    /// The answer's JSON header: an output's `data` is missing when it went binary.
    private struct WireResponse: Encodable {
        var modelName: String
        var modelVersion: String?
        var id: String?
        var parameters: [String: InferParameter]?
        var outputs: [WireOutput]

        enum CodingKeys: String, CodingKey {
            case modelName = "model_name", modelVersion = "model_version", id, parameters, outputs
        }
    }

    private struct WireOutput: Encodable {
        var name: String
        var shape: [Int]
        var datatype: String
        var parameters: [String: InferParameter]?
        var data: TensorData?
    }

    /// Appends `tensor`'s raw bytes to `raw`, or leaves `raw` as it was and says false when a
    /// value has no exact form in the datatype.
    private static func appendRaw(_ tensor: InferTensor, to raw: inout [UInt8]) -> Bool {
        let start = raw.count
        var exact = true
        switch (tensor.datatype, tensor.data) {
        case let ("BOOL", .booleans(flags)):
            raw += flags.map { $0 ? 1 : 0 }
        case let ("BYTES", .strings(texts)):
            for text in texts {
                let utf8 = Array(text.utf8)
                guard let length = UInt32(exactly: utf8.count) else { exact = false; break }
                store(length, to: &raw)
                raw += utf8
            }
        case let (datatype, .numbers(values)):
            for value in values where exact {
                switch datatype {
                // Rounding to float32 is what the datatype says, not a loss to refuse.
                case "FP32": store(Float(value).bitPattern, to: &raw)
                case "FP64": store(value.bitPattern, to: &raw)
                case "UINT8": exact = append(UInt8(exactly: value), to: &raw)
                case "INT8": exact = append(Int8(exactly: value).map { UInt8(bitPattern: $0) }, to: &raw)
                case "UINT16": exact = append(UInt16(exactly: value), to: &raw)
                case "INT16": exact = append(Int16(exactly: value).map { UInt16(bitPattern: $0) }, to: &raw)
                case "UINT32": exact = append(UInt32(exactly: value), to: &raw)
                case "INT32": exact = append(Int32(exactly: value).map { UInt32(bitPattern: $0) }, to: &raw)
                case "UINT64": exact = append(UInt64(exactly: value), to: &raw)
                case "INT64": exact = append(Int64(exactly: value).map { UInt64(bitPattern: $0) }, to: &raw)
                default: exact = false
                }
            }
        default:
            exact = false
        }
        if !exact { raw.removeSubrange(start...) }
        return exact
    }

    private static func append<T: FixedWidthInteger & UnsignedInteger>(_ value: T?, to raw: inout [UInt8]) -> Bool {
        guard let value else { return false }
        store(value, to: &raw)
        return true
    }

    private static func store<T: FixedWidthInteger & UnsignedInteger>(_ value: T, to raw: inout [UInt8]) {
        for byte in 0..<(T.bitWidth / 8) { raw.append(UInt8(truncatingIfNeeded: value >> (byte * 8))) }
    }
}
