extension ServerOptimizerState {
    /// The state as a safetensors file, so a coordinator can store it or hand it to the next one:
    /// metadata `starling.algorithm` and `starling.steps`, tensors `first/<name>` (momentum or m) and
    /// `second/<name>` (v) with the model's shapes, and the layout as metadata `starling.shape/<name>`
    /// ("10,32"), so a state without moments round-trips too. Throws when a name with its prefix
    /// exceeds `LearningLimits.nameBytesMax` or the metadata its limits.
    public func safetensors() throws(LearningError) -> [UInt8] {
        var tensors: [Tensor] = []
        var metadata = ["starling.algorithm": algorithm.rawValue, "starling.steps": String(steps)]
        for slot in layout {
            metadata["starling.shape/" + slot.name] = slot.shape.map(String.init).joined(separator: ",")
            if !first.isEmpty {
                tensors.append(try Tensor(name: "first/" + slot.name, shape: slot.shape, values: Array(first[slot.offset..<(slot.offset + slot.count)])))
            }
            if !second.isEmpty {
                tensors.append(try Tensor(name: "second/" + slot.name, shape: slot.shape, values: Array(second[slot.offset..<(slot.offset + slot.count)])))
            }
        }
        return SafeTensors.encode(try ModelWeights(tensors: tensors, metadata: metadata))
    }

    /// Reads what `safetensors()` wrote; refuses anything else.
    public init(safetensors bytes: [UInt8]) throws(LearningError) {
        let model = try SafeTensors.decode(bytes)
        guard let name = model.metadata["starling.algorithm"], let algorithm = AggregationAlgorithm(rawValue: name) else {
            throw LearningError("optimiser state: no known starling.algorithm")
        }
        guard let stepsText = model.metadata["starling.steps"], let steps = Int(stepsText), steps >= 0 else {
            throw LearningError("optimiser state: no valid starling.steps")
        }
        var slots: [(name: String, shape: [Int])] = []
        for (key, value) in model.metadata where key.hasPrefix("starling.shape/") {
            var shape: [Int] = []
            for part in value.split(separator: ",", omittingEmptySubsequences: false) where !value.isEmpty {
                guard let dimension = Int(part), dimension >= 0 else { throw LearningError("optimiser state: invalid shape \(value.prefix(60))") }
                shape.append(dimension)
            }
            slots.append((String(key.dropFirst("starling.shape/".count)), shape))
        }
        slots.sort { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
        var layout: [TensorLayout] = []
        var offset = 0
        for slot in slots {
            let count = try Tensor.elementCount(slot.shape, name: slot.name)
            layout.append(TensorLayout(name: slot.name, shape: slot.shape, offset: offset, count: count))
            offset += count
        }
        func moments(_ prefix: String) throws(LearningError) -> [Float] {
            let present = layout.filter { model[prefix + $0.name] != nil }
            if present.isEmpty { return [] }
            guard present.count == layout.count else { throw LearningError("optimiser state: \(prefix) tensors missing") }
            var values: [Float] = []
            values.reserveCapacity(offset)
            for slot in layout {
                let tensor = model[prefix + slot.name]!
                guard tensor.shape == slot.shape else { throw LearningError("optimiser state: \(prefix + slot.name) has shape \(tensor.shape), the layout \(slot.shape)") }
                values += tensor.values
            }
            return values
        }
        let first = try moments("first/")
        let second = try moments("second/")
        guard model.tensors.count == (first.isEmpty ? 0 : layout.count) + (second.isEmpty ? 0 : layout.count) else {
            throw LearningError("optimiser state: tensors that belong to no layout entry")
        }
        self.init(algorithm: algorithm, steps: steps, layout: layout, first: first, second: second)
    }
}
