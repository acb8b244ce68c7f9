import Foundation
import StarlingInferenceAPI
import Testing

/// An answer written directly reads back as the same answer, and reads as Foundation's encoder's.
@Suite struct DirectJSONTests {
    @Test func aWrittenAnswerDecodesToItselfAndMatchesTheEncoder() throws {
        let response = InferResponse(
            modelName: "digits \"joint\"", modelVersion: "3", id: "req/1\n",
            parameters: ["computed_at": .string("mixed"), "edge_version": .number(3), "flag": .bool(true),
                         "fallback_reason": .string("cloud-1 timed out \\ 400 ms")],
            outputs: [
                InferTensor(name: "scores", shape: [2, 2], datatype: "FP32", data: .numbers([0.25, 0.75, Double(Float(0.1)), 1e-30])),
                InferTensor(name: "class", shape: [2], datatype: "INT64", data: .numbers([1, 0])),
                InferTensor(name: "computed_at", shape: [2], datatype: "BYTES", parameters: ["x": .number(-2.5)],
                            data: .strings(["edge", "edge-fallback"])),
                InferTensor(name: "ok", shape: [1], datatype: "BOOL", data: .booleans([true])),
            ])
        let direct = try #require(response.directJSON())
        #expect(try JSONDecoder().decode(InferResponse.self, from: Data(direct)) == response)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let encoded = try encoder.encode(response)
        let asObject = { (bytes: Data) in try JSONSerialization.jsonObject(with: bytes) as? NSDictionary }
        #expect(try asObject(Data(direct)) == asObject(encoded))
        let notFinite = InferResponse(modelName: "m", outputs: [InferTensor(name: "s", shape: [1], datatype: "FP32", data: .numbers([.nan]))])
        #expect(notFinite.directJSON() == nil)
    }
}
