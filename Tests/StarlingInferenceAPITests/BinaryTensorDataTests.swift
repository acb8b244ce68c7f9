import Foundation
import StarlingInferenceAPI
import Testing

/// Triton's binary tensor data extension as tritonclient sends and reads it: a JSON header of
/// `Inference-Header-Content-Length` bytes, then each binary tensor's raw little-endian bytes.
@Suite struct BinaryTensorDataTests {
    static func littleEndian<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
        values.flatMap { value in (0..<(T.bitWidth / 8)).map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) } }
    }

    static func body(_ json: String, _ raw: [UInt8]...) -> (body: [UInt8], headerLength: Int) {
        (Array(json.utf8) + raw.flatMap { $0 }, json.utf8.count)
    }

    @Test func aTritonclientBinaryRequestIsTheSameRequestAsItsJSONForm() throws {
        // What tritonclient.http sends for set_data_from_numpy(np.float32 [[0.5,1,2],[3,4,5.25]])
        // with its default binary_data=True and InferRequestedOutput("scores") (binary_data=True).
        let floats: [Float] = [0.5, 1, 2, 3, 4, 5.25]
        let (body, length) = Self.body("""
            {"id":"r1","inputs":[{"name":"x","shape":[2,3],"datatype":"FP32","parameters":{"binary_data_size":24}}],\
            "outputs":[{"name":"scores","parameters":{"binary_data":true}}]}
            """, Self.littleEndian(floats.map(\.bitPattern)))
        let request = try BinaryTensorData.request(body: body, headerLength: length)
        let json = try InferenceJSON.request(from: Data("""
            {"id":"r1","inputs":[{"name":"x","shape":[2,3],"datatype":"FP32","data":[0.5,1,2,3,4,5.25]}],
             "outputs":[{"name":"scores","parameters":{"binary_data":true}}]}
            """.utf8))
        #expect(request == json)
        #expect(try InferenceBatch(request, features: 3).values == floats)
        #expect(BinaryTensorData.wantsBinary("scores", in: request) && BinaryTensorData.asksBinary(request))
    }

    @Test func everyDatatypeReadsInInputOrderBesideJSONInputs() throws {
        let (body, length) = Self.body("""
            {"inputs":[{"name":"a","shape":[2],"datatype":"INT64","parameters":{"binary_data_size":16}},
                       {"name":"j","shape":[1],"datatype":"FP64","data":[9]},
                       {"name":"b","shape":[3],"datatype":"BOOL","parameters":{"binary_data_size":3}},
                       {"name":"c","shape":[2],"datatype":"INT8","parameters":{"binary_data_size":2}},
                       {"name":"d","shape":[1],"datatype":"UINT16","parameters":{"binary_data_size":2,"other":"kept"}},
                       {"name":"e","shape":[2],"datatype":"FP16","parameters":{"binary_data_size":4}},
                       {"name":"f","shape":[1],"datatype":"FP64","parameters":{"binary_data_size":8}},
                       {"name":"s","shape":[2],"datatype":"BYTES","parameters":{"binary_data_size":13}}]}
            """,
            Self.littleEndian([Int64(-3), 1 << 40]), [1, 0, 1], [0xff, 0x7f], Self.littleEndian([UInt16(65_535)]),
            Self.littleEndian([UInt16(0x3c00), 0xc100]), Self.littleEndian([(-0.125).bitPattern]),
            Self.littleEndian([UInt32(2)]) + Array("hi".utf8) + Self.littleEndian([UInt32(3)]) + Array("abc".utf8))
        let inputs = try BinaryTensorData.request(body: body, headerLength: length).inputs
        #expect(inputs.map(\.name) == ["a", "j", "b", "c", "d", "e", "f", "s"])
        #expect(inputs.map(\.data) == [.numbers([-3, 1_099_511_627_776]), .numbers([9]), .booleans([true, false, true]), .numbers([-1, 127]),
                                       .numbers([65_535]), .numbers([1, -2.5]), .numbers([-0.125]), .strings(["hi", "abc"])])
        #expect(inputs[0].parameters == nil && inputs[4].parameters == ["other": .string("kept")])
    }

    @Test func badBinaryRequestsAreRefusedNamingWhatIsWrong() {
        let four = Self.littleEndian([Float(1).bitPattern])
        let cases: [(String, [UInt8], Int?, String)] = [
            (#"{"inputs":[{"name":"x","shape":[2],"datatype":"FP32","parameters":{"binary_data_size":4}}]}"#, four, nil,
             "input x: shape [2] of FP32 needs 8 bytes; binary_data_size is 4"),
            (#"{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","parameters":{"binary_data_size":8}}]}"#, four, nil,
             "input x: binary_data_size 8 passes the end of the body (4 bytes left)"),
            (#"{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","parameters":{"binary_data_size":4}}]}"#, four + four, nil,
             "the body has 4 bytes after the inputs' binary data"),
            (#"{"inputs":[{"name":"x","shape":[1],"datatype":"FP32"}]}"#, [], nil,
             "input x: neither data nor the binary_data_size parameter"),
            (#"{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[1],"parameters":{"binary_data_size":4}}]}"#, four, nil,
             "input x: both data and the binary_data_size parameter"),
            (#"{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","parameters":{"binary_data_size":"4"}}]}"#, four, nil,
             "input x: binary_data_size is not a byte count"),
            (#"{"inputs":[{"name":"x","shape":[1],"datatype":"FP8","parameters":{"binary_data_size":1}}]}"#, [1], nil,
             "input x: datatype FP8 has no binary form"),
            (#"{"inputs":[{"name":"x","shape":[1],"datatype":"BYTES","parameters":{"binary_data_size":5}}]}"#, [9, 0, 0, 0, 65], nil,
             "input x: BYTES element 0 of 9 bytes passes the tensor's end"),
            (#"{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","parameters":{"binary_data_size":4}}]}"#, four, 500,
             "Inference-Header-Content-Length 500 is not within the body's BODY bytes"),
            (#"{"inputs":[{"name":"x","shape":"1","datatype":"FP32","parameters":{"binary_data_size":4}}]}"#, four, nil,
             "inputs[0].shape: expected an array"),
        ]
        for (json, raw, length, message) in cases {
            let (body, headerLength) = Self.body(json, raw)
            let refused = #expect(throws: InferenceAPIError.self, "\(json)") {
                try BinaryTensorData.request(body: body, headerLength: length ?? headerLength)
            }
            #expect(refused?.message == message.replacingOccurrences(of: "BODY", with: String(body.count)) && refused?.status == .badRequest, "\(json)")
        }
    }

    /// Reads an answer the way tritonclient's `InferResult` does: the JSON header, then each
    /// output with `binary_data_size` takes the next bytes.
    static func read(_ encoded: BinaryTensorData.EncodedResponse) throws -> (header: [String: Any], raw: [String: [UInt8]]) {
        let length = encoded.headerLength ?? encoded.body.count
        let header = try #require(try JSONSerialization.jsonObject(with: Data(encoded.body.prefix(length))) as? [String: Any])
        var raw: [String: [UInt8]] = [:]
        var at = length
        for output in header["outputs"] as? [[String: Any]] ?? [] {
            if let size = (output["parameters"] as? [String: Any])?["binary_data_size"] as? Int, let name = output["name"] as? String {
                raw[name] = Array(encoded.body[at..<at + size])
                at += size
            }
        }
        #expect(at == encoded.body.count)
        return (header, raw)
    }

    @Test func answersGoBinaryForTheOutputsAskedAndJSONForTheRest() throws {
        let response = InferResponse(modelName: "digits", id: "r1", parameters: ["computed_at": .string("edge")], outputs: [
            InferTensor(name: "scores", shape: [1, 2], datatype: "FP32", data: .numbers([0.25, 0.75])),
            InferTensor(name: "label", shape: [1], datatype: "INT64", data: .numbers([7])),
            InferTensor(name: "half", shape: [1], datatype: "FP16", data: .numbers([1])),
            InferTensor(name: "names", shape: [1], datatype: "BYTES", data: .strings(["seven"])),
        ])
        let request = try InferenceJSON.request(from: Data("""
            {"inputs":[],"parameters":{"binary_data_output":true},"outputs":[{"name":"label","parameters":{"binary_data":false}}]}
            """.utf8))
        #expect(BinaryTensorData.wantsBinary("scores", in: request) && !BinaryTensorData.wantsBinary("label", in: request))
        let encoded = BinaryTensorData.response(response) { BinaryTensorData.wantsBinary($0.name, in: request) }
        let (header, raw) = try Self.read(encoded)
        #expect(encoded.headerLength != nil && header["model_name"] as? String == "digits" && header["id"] as? String == "r1")
        #expect(raw["scores"] == Self.littleEndian([Float(0.25).bitPattern, Float(0.75).bitPattern]))
        #expect(raw["names"] == Self.littleEndian([UInt32(5)]) + Array("seven".utf8))
        let outputs = try #require(header["outputs"] as? [[String: Any]])
        #expect(outputs[1]["data"] as? [Int] == [7] && outputs[1]["parameters"] == nil, "label asked JSON")
        #expect(outputs[2]["data"] as? [Int] == [1] && raw["half"] == nil, "FP16 has no binary encoder here: JSON")
        #expect(outputs[0]["data"] == nil && outputs[0]["datatype"] as? String == "FP32")

        let integers = BinaryTensorData.response(InferResponse(modelName: "m", outputs: [
            InferTensor(name: "n", shape: [2], datatype: "INT32", data: .numbers([-1, 2])),
            InferTensor(name: "f", shape: [1], datatype: "INT32", data: .numbers([0.5])),
            InferTensor(name: "b", shape: [2], datatype: "BOOL", data: .booleans([true, false])),
        ])) { _ in true }
        let read = try Self.read(integers)
        #expect(read.raw == ["n": Self.littleEndian([UInt32(bitPattern: -1), 2]), "b": [1, 0]], "0.5 is not an INT32: JSON")
    }

    @Test func anAnswerNobodyAskedInBinaryIsPlainJSON() throws {
        let response = InferResponse(modelName: "m", outputs: [InferTensor(name: "y", shape: [1], datatype: "FP32", data: .numbers([1]))])
        let request = try InferenceJSON.request(from: Data(#"{"inputs":[]}"#.utf8))
        #expect(!BinaryTensorData.asksBinary(request))
        let encoded = BinaryTensorData.response(response) { BinaryTensorData.wantsBinary($0.name, in: request) }
        #expect(encoded.headerLength == nil)
        #expect(try JSONDecoder().decode(InferResponse.self, from: Data(encoded.body)) == response)
    }

    @Test func decodingErrorsNameTheFieldAndWhatWasExpected() {
        let cases: [(String, String)] = [
            (#"{"inputs":[{"name":"x","shape":[1],"datatype":5,"data":[1]}]}"#, "inputs[0].datatype: expected a string"),
            (#"{"inputs":[{"name":"x","shape":[1],"data":[1]}]}"#, #"inputs[0]: missing field "datatype""#),
            (#"{"id":"r"}"#, #"the request: missing field "inputs""#),
            (#"{"inputs":[{"name":"x","shape":[1.5],"datatype":"FP32","data":[1]}]}"#, "the request has a number that does not fit its field"),
            ("{\"inputs\":[", "the request is not valid JSON: "),
            ("not json", "the request is not valid JSON"),
            (#"{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[1,true]}]}"#, "inputs[0].data: data mixes numbers, booleans and strings"),
        ]
        for (json, prefix) in cases {
            let refused = #expect(throws: InferenceAPIError.self, "\(json)") { try InferenceJSON.request(from: Data(json.utf8)) }
            #expect(refused?.message.hasPrefix(prefix) == true && refused?.status == .badRequest, "\(json): \(refused?.message ?? "")")
        }
    }
}
