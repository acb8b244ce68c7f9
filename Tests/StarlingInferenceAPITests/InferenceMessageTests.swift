import Foundation
import StarlingInferenceAPI
import Testing

/// The Open Inference Protocol v2 messages as clients send them: tritonclient's JSON form (flat
/// data), nested data, and the refusals a bad request gets.
@Suite struct InferenceMessageTests {
    static func request(_ json: String) throws -> InferRequest {
        try JSONDecoder().decode(InferRequest.self, from: Data(json.utf8))
    }

    static func refusal(_ json: String, features: Int? = 3) throws -> InferenceAPIError? {
        let request = try request(json)
        do {
            _ = try InferenceBatch(request, features: features)
            return nil
        } catch {
            return error
        }
    }

    @Test func aTritonclientRequestWithFlatDataIsABatch() throws {
        // What tritonclient.http sends for set_data_from_numpy(x, binary_data=False) and
        // InferRequestedOutput("scores", binary_data=False).
        let json = """
            {"id":"r1","inputs":[{"name":"x","shape":[2,3],"datatype":"FP32","data":[0.5,1,2,3,4,5.25]}],
             "outputs":[{"name":"scores","parameters":{"binary_data":false}}]}
            """
        let request = try Self.request(json)
        #expect(request.id == "r1" && request.outputs?.first?.parameters?["binary_data"] == .bool(false))
        let batch = try InferenceBatch(request, features: 3)
        #expect(batch.rows == 2 && batch.features == 3 && batch.values == [0.5, 1, 2, 3, 4, 5.25])
    }

    @Test func nestedDataAndOneExampleAreRead() throws {
        let nested = try InferenceBatch(Self.request("""
            {"inputs":[{"name":"x","shape":[2,2],"datatype":"FP64","data":[[1,2],[3,4]]}]}
            """), features: nil)
        #expect(nested.values == [1, 2, 3, 4] && nested.rows == 2)
        let one = try InferenceBatch(Self.request("""
            {"inputs":[{"name":"x","shape":[3],"datatype":"INT64","data":[7,8,9]}]}
            """), features: 3)
        #expect(one.rows == 1 && one.values == [7, 8, 9])
        let flags = try InferenceBatch(Self.request("""
            {"inputs":[{"name":"x","shape":[1,2],"datatype":"BOOL","data":[true,false]}]}
            """), features: 2)
        #expect(flags.values == [1, 0])
    }

    @Test func badRequestsAreRefusedNamingWhatIsWrong() throws {
        let cases: [(String, InferenceAPIError.Status, String)] = [
            (#"{"inputs":[{"name":"x","shape":[2,3],"datatype":"FP32","data":[1,2,3,4,5]}]}"#, .badRequest,
             "input x: shape [2, 3] needs 6 values; data has 5"),
            (#"{"inputs":[{"name":"x","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}"#, .badRequest,
             "input x: 4 features per example; the model takes 3"),
            (#"{"inputs":[{"name":"x","shape":[1,3],"datatype":"FP8","data":[1,2,3]}]}"#, .badRequest,
             "input x: unknown datatype FP8 (known: BOOL, BYTES, FP16, FP32, FP64, INT16, INT32, INT64, INT8, UINT16, UINT32, UINT64, UINT8)"),
            (#"{"inputs":[{"name":"x","shape":[1,3],"datatype":"BYTES","data":["a","b","c"]}]}"#, .badRequest,
             "input x: datatype BYTES is not served; send numbers (FP32, FP64 or an integer type)"),
            (#"{"inputs":[{"name":"x","shape":[1,3],"datatype":"FP32","data":["a","b","c"]}]}"#, .badRequest,
             "input x: the data are strings; datatype FP32 needs numbers"),
            (#"{"inputs":[{"name":"x","shape":[1,3],"datatype":"FP32","data":[1e300,2,3]}]}"#, .badRequest,
             "input x: 1e+300 is not a finite float32"),
            (#"{"inputs":[{"name":"x","shape":[0,3],"datatype":"FP32","data":[]}]}"#, .badRequest,
             "input x: shape [0, 3] is not [examples, features] or [features] of positive sizes"),
            (#"{"inputs":[]}"#, .badRequest, "the model takes exactly one input tensor; the request has 0"),
            (#"{"inputs":[{"name":"x","shape":[5000,3],"datatype":"FP32","data":[1]}]}"#, .payloadTooLarge,
             "input x: 5000 examples; at most 4096 per request"),
        ]
        for (json, status, message) in cases {
            let refused = try Self.refusal(json)
            #expect(refused == InferenceAPIError(status, message), "\(json)")
        }
    }

    @Test func dataThatIsNotATensorDoesNotDecode() {
        for json in [#"{"inputs":[{"name":"x","shape":[2],"datatype":"FP32","data":[1,true]}]}"#,
                     #"{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[{"a":1}]}]}"#,
                     #"{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[[[[[[[[[[1]]]]]]]]]]}]}"#,
                     #"{"inputs":"#] {
            #expect(throws: DecodingError.self, "\(json)") { try Self.request(json) }
        }
    }

    @Test func anAnswerEncodesWithTheProtocolsFieldNames() throws {
        let answer = InferResponse(modelName: "digits", id: "r1", parameters: ["computed_at": .string("edge-fallback"),
                                                                               "fallback_reason": .string("cloud deadline 500 ms")],
                                   outputs: [InferTensor(name: "scores", shape: [1, 2], datatype: "FP32", data: .numbers([0.25, 0.75]))])
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let text = String(decoding: try encoder.encode(answer), as: UTF8.self)
        #expect(text == #"{"id":"r1","model_name":"digits","outputs":[{"data":[0.25,0.75],"datatype":"FP32","name":"scores","shape":[1,2]}],"parameters":{"computed_at":"edge-fallback","fallback_reason":"cloud deadline 500 ms"}}"#)
        #expect(try JSONDecoder().decode(InferResponse.self, from: Data(text.utf8)) == answer)
        let error = String(decoding: try encoder.encode(InferenceAPIError(.notFound, "no service digits").body), as: UTF8.self)
        #expect(error == #"{"error":"no service digits"}"#)
    }
}
