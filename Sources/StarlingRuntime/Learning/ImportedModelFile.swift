import Foundation
import StarlingLearning
import StarlingStore

/// A safetensors file offered as a starting model (`starling model import`), checked as a round's
/// global model must be: it decodes, every tensor is F32 (what aggregation makes and the workers
/// are handed), every value is finite. Errors name the file and what is wrong.
public struct ImportedModelFile {
    public let path: String
    /// The file's bytes, stored as they are: the blob a task's first round starts from.
    public let bytes: [UInt8]
    public let weights: ModelWeights

    public init(path: String) throws {
        let bytes: [UInt8]
        do {
            bytes = try POSIXFile.read(path, limit: LearningLimits.modelBytesMax)
        } catch {
            throw RuntimeError("\(error)")
        }
        let weights: ModelWeights
        do {
            weights = try SafeTensors.decode(bytes, requireFinite: true)
        } catch {
            throw RuntimeError("\(path): not a usable safetensors model: \(error)")
        }
        // The decoder converts every dtype to Float; a starting model must be F32 already, or the
        // workers of round 1 would be handed other types than in every later round.
        let others = Self.dtypes(bytes).filter { $0.value != "F32" }.sorted { $0.key < $1.key }
        if !others.isEmpty {
            let named = others.prefix(3).map { "\($0.key) is \($0.value)" }.joined(separator: ", ")
                + (others.count > 3 ? " and \(others.count - 3) more are not F32" : "")
            throw RuntimeError("\(path): tensor \(named); a starting model is float32 (F32) throughout: "
                + "convert it first (numpy: array.astype(numpy.float32))")
        }
        if weights.tensors.isEmpty { throw RuntimeError("\(path): holds no tensor") }
        self.path = path
        self.bytes = bytes
        self.weights = weights
    }

    /// Each tensor's dtype, from the header of a file `SafeTensors.decode` accepted.
    static func dtypes(_ bytes: [UInt8]) -> [String: String] {
        let length = bytes.prefix(8).reversed().reduce(0) { $0 << 8 | Int($1) }
        // Every value of the header is an object (`__metadata__` too, of strings): read its dtype, if any.
        guard let header = try? JSONDecoder().decode([String: HeaderEntry].self, from: Data(bytes[8..<(8 + length)])) else {
            return [:]
        }
        var dtypes: [String: String] = [:]
        for (name, entry) in header where name != "__metadata__" { dtypes[name] = entry.dtype ?? "?" }
        return dtypes
    }

    private struct HeaderEntry: Decodable {
        let dtype: String?
    }
}
