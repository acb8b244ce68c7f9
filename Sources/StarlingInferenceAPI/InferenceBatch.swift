/// A request's examples as a model reads them: `rows` examples of `features` float values each,
/// row-major. Built from the request's one input tensor of shape [rows, features] (or [features]
/// for one example) and a numeric datatype.
public struct InferenceBatch: Equatable, Sendable {
    public let rows: Int
    public let features: Int
    public let values: [Float]

    /// The datatypes read as numbers (Triton's names). BYTES and FP16 are refused.
    public static let numericDatatypes: Set<String> = [
        "BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64", "FP32", "FP64",
    ]
    public static let knownDatatypes = numericDatatypes.union(["FP16", "BYTES"])

    /// Reads `request` for a model that takes `features` values per example (nil: any).
    public init(_ request: InferRequest, features expected: Int?) throws(InferenceAPIError) {
        guard request.inputs.count <= InferenceAPILimits.inputsMax else {
            throw InferenceAPIError(.badRequest, "\(request.inputs.count) inputs; at most \(InferenceAPILimits.inputsMax)")
        }
        guard request.inputs.count == 1, let input = request.inputs.first else {
            throw InferenceAPIError(.badRequest, "the model takes exactly one input tensor; the request has \(request.inputs.count)")
        }
        let name = "input \(input.name)"
        guard Self.knownDatatypes.contains(input.datatype) else {
            throw InferenceAPIError(.badRequest, "\(name): unknown datatype \(input.datatype) (known: \(Self.knownDatatypes.sorted().joined(separator: ", ")))")
        }
        guard Self.numericDatatypes.contains(input.datatype) else {
            throw InferenceAPIError(.badRequest, "\(name): datatype \(input.datatype) is not served; send numbers (FP32, FP64 or an integer type)")
        }
        guard input.shape.count == 1 || input.shape.count == 2, input.shape.allSatisfy({ $0 > 0 }) else {
            throw InferenceAPIError(.badRequest, "\(name): shape \(input.shape) is not [examples, features] or [features] of positive sizes")
        }
        let rows = input.shape.count == 2 ? input.shape[0] : 1
        let features = input.shape.last!
        guard rows <= InferenceAPILimits.batchMax else {
            throw InferenceAPIError(.payloadTooLarge, "\(name): \(rows) examples; at most \(InferenceAPILimits.batchMax) per request")
        }
        let (product, overflow) = rows.multipliedReportingOverflow(by: features)
        guard !overflow, product <= InferenceAPILimits.elementsMax else {
            throw InferenceAPIError(.payloadTooLarge, "\(name): shape \(input.shape) holds more than \(InferenceAPILimits.elementsMax) values")
        }
        if let expected, features != expected {
            throw InferenceAPIError(.badRequest, "\(name): \(features) features per example; the model takes \(expected)")
        }
        guard input.data.count == product else {
            throw InferenceAPIError(.badRequest, "\(name): shape \(input.shape) needs \(product) values; data has \(input.data.count)")
        }
        var values: [Float] = []
        values.reserveCapacity(product)
        switch input.data {
        case let .numbers(numbers):
            if input.datatype == "BOOL" { throw InferenceAPIError(.badRequest, "\(name): datatype BOOL needs true/false values") }
            for number in numbers {
                let value = Float(number)
                guard value.isFinite else { throw InferenceAPIError(.badRequest, "\(name): \(number) is not a finite float32") }
                values.append(value)
            }
        case let .booleans(flags):
            guard input.datatype == "BOOL" else { throw InferenceAPIError(.badRequest, "\(name): true/false values need datatype BOOL") }
            values = flags.map { $0 ? 1 : 0 }
        case .strings:
            throw InferenceAPIError(.badRequest, "\(name): the data are strings; datatype \(input.datatype) needs numbers")
        }
        self.rows = rows
        self.features = features
        self.values = values
    }
}
