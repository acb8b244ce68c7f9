import RealModule

/// The built-in workers: `logreg` (softmax regression, one dense layer) and `mlp` (one hidden ReLU
/// layer of `hiddenUnits`, e.g. 64-32-10 on digits). Tensors follow PyTorch's `nn.Linear` layout:
/// `dense<i>.weight` [outputs, inputs] and `dense<i>.bias` [outputs].
public struct BuiltinTrainer: Sendable {
    public let kind: BuiltinWorker
    public let featureCount: Int
    public let classCount: Int
    public let hiddenUnits: Int

    public init(kind: BuiltinWorker, featureCount: Int, classCount: Int, hiddenUnits: Int = 32) {
        self.kind = kind
        self.featureCount = featureCount
        self.classCount = classCount
        self.hiddenUnits = hiddenUnits
    }

    /// Layer widths, inputs first.
    var sizes: [Int] { kind == .logreg ? [featureCount, classCount] : [featureCount, hiddenUnits, classCount] }

    func checkShape() throws(LearningError) {
        guard featureCount > 0, featureCount <= LearningLimits.featuresMax else { throw LearningError("feature count \(featureCount) is not in 1...\(LearningLimits.featuresMax)") }
        guard classCount > 1, classCount <= LearningLimits.classesMax else { throw LearningError("class count \(classCount) is not in 2...\(LearningLimits.classesMax)") }
        guard kind == .logreg || (hiddenUnits > 0 && hiddenUnits <= LearningLimits.hiddenUnitsMax) else {
            throw LearningError("hidden units \(hiddenUnits) is not in 1...\(LearningLimits.hiddenUnitsMax)")
        }
        let (count, overflow) = featureCount.multipliedReportingOverflow(by: max(hiddenUnits, classCount))
        guard !overflow, count <= LearningLimits.parametersMax / 2 else { throw LearningError("model too large") }
    }

    /// Deterministic from `seed`. logreg starts at zeros; the MLP draws weights and biases uniformly in
    /// ±1/√inputs (PyTorch's default for `nn.Linear`).
    public func initialWeights(seed: UInt64) -> ModelWeights {
        var random = SeededRandom(seed: seed)
        var tensors: [Tensor] = []
        for layer in 0..<(sizes.count - 1) {
            let inputs = sizes[layer], outputs = sizes[layer + 1]
            let bound = kind == .logreg ? 0 : 1 / Double(inputs).squareRoot()
            let weight = (0..<(inputs * outputs)).map { _ in Float((random.unit() * 2 - 1) * bound) }
            let bias = (0..<outputs).map { _ in Float((random.unit() * 2 - 1) * bound) }
            tensors.append(try! Tensor(name: "dense\(layer).weight", shape: [outputs, inputs], values: weight))
            tensors.append(try! Tensor(name: "dense\(layer).bias", shape: [outputs], values: bias))
        }
        return try! ModelWeights(tensors: tensors)
    }

    /// The model's parameters as one flat array: per layer the weight then the bias.
    func flatten(_ weights: ModelWeights) throws(LearningError) -> [Float] {
        try checkShape()
        var flat: [Float] = []
        for layer in 0..<(sizes.count - 1) {
            let inputs = sizes[layer], outputs = sizes[layer + 1]
            guard let weight = weights["dense\(layer).weight"], weight.shape == [outputs, inputs] else {
                throw LearningError("\(kind.rawValue) needs tensor dense\(layer).weight of shape [\(outputs), \(inputs)]")
            }
            guard let bias = weights["dense\(layer).bias"], bias.shape == [outputs] else {
                throw LearningError("\(kind.rawValue) needs tensor dense\(layer).bias of shape [\(outputs)]")
            }
            flat += weight.values
            flat += bias.values
        }
        guard weights.tensors.count == 2 * (sizes.count - 1) else {
            throw LearningError("\(kind.rawValue) has \(2 * (sizes.count - 1)) tensors, the model \(weights.tensors.count)")
        }
        return flat
    }

    func unflatten(_ flat: [Float], metadata: [String: String]) -> ModelWeights {
        var tensors: [Tensor] = []
        var offset = 0
        for layer in 0..<(sizes.count - 1) {
            let inputs = sizes[layer], outputs = sizes[layer + 1]
            tensors.append(try! Tensor(name: "dense\(layer).weight", shape: [outputs, inputs], values: Array(flat[offset..<(offset + inputs * outputs)])))
            offset += inputs * outputs
            tensors.append(try! Tensor(name: "dense\(layer).bias", shape: [outputs], values: Array(flat[offset..<(offset + outputs)])))
            offset += outputs
        }
        return try! ModelWeights(tensors: tensors, metadata: metadata)
    }

    func checkData(_ data: LabeledData) throws(LearningError) {
        guard data.featureCount == featureCount else {
            throw LearningError("data has \(data.featureCount) features, the model \(featureCount)")
        }
        guard data.classCount <= classCount else {
            throw LearningError("data has \(data.classCount) classes, the model \(classCount)")
        }
        guard data.count > 0 else { throw LearningError("data has no rows") }
    }

    /// Minibatch SGD on the mean softmax cross-entropy of each batch, rows shuffled each epoch from
    /// `seed`; with `proximalMu` > 0 the FedProx term mu/2‖w − w_global‖² (w_global = `weights`) is
    /// added. Returns the trained weights and the mean training loss of the last epoch.
    public func train(_ weights: ModelWeights, on data: LabeledData, epochs: Int, batchSize: Int, learningRate: Double,
                      proximalMu: Double, seed: UInt64) throws(LearningError) -> (weights: ModelWeights, loss: Double) {
        var flat = try flatten(weights)
        try checkData(data)
        guard epochs >= 1, epochs <= 100_000 else { throw LearningError("epochs \(epochs) is not in 1...100000") }
        guard batchSize >= 1 else { throw LearningError("batch size \(batchSize) is not ≥ 1") }
        guard learningRate.isFinite, learningRate > 0 else { throw LearningError("learning rate \(learningRate) is not > 0") }
        guard proximalMu.isFinite, proximalMu >= 0 else { throw LearningError("proximal mu \(proximalMu) is not ≥ 0") }
        let network = Network(sizes: sizes, batch: min(batchSize, data.count))
        defer { network.release() }
        let global = flat
        var random = SeededRandom(seed: seed)
        var order = Array(0..<data.count)
        var loss = 0.0
        for _ in 0..<epochs {
            random.permute(&order)
            loss = 0
            var start = 0
            while start < order.count {
                let end = min(start + network.batch, order.count)
                loss += network.step(&flat, global: global, data: data, rows: order[start..<end],
                                     rate: Float(learningRate), mu: Float(proximalMu))
                start = end
            }
            loss /= Double(data.count)
        }
        guard flat.allSatisfy(\.isFinite) else { throw LearningError("training diverged (non-finite weights); lower the learning rate") }
        return (unflatten(flat, metadata: weights.metadata), loss)
    }

    /// Mean cross-entropy and accuracy on `data`.
    public func evaluate(_ weights: ModelWeights, on data: LabeledData) throws(LearningError) -> (loss: Double, accuracy: Double) {
        var flat = try flatten(weights)
        try checkData(data)
        let network = Network(sizes: sizes, batch: min(256, data.count))
        defer { network.release() }
        var loss = 0.0
        var correct = 0
        var start = 0
        while start < data.count {
            let end = min(start + network.batch, data.count)
            let (batchLoss, batchCorrect) = network.evaluate(&flat, data: data, rows: start..<end)
            loss += batchLoss
            correct += batchCorrect
            start = end
        }
        return (loss / Double(data.count), Double(correct) / Double(data.count))
    }
}

/// Scratch buffers for one batch and the forward/backward passes. The unsafe code of training is
/// confined to this type; `release` frees it.
struct Network {
    let sizes: [Int]
    let batch: Int
    /// activations[l]: batch × sizes[l] (activations[0] is the input rows).
    var activations: [UnsafeMutablePointer<Float>]
    /// deltas[l]: batch × sizes[l + 1], the loss gradient at layer l's output.
    var deltas: [UnsafeMutablePointer<Float>]
    var gradient: UnsafeMutablePointer<Float>
    let parameterCount: Int

    init(sizes: [Int], batch: Int) {
        self.sizes = sizes
        self.batch = batch
        activations = sizes.map { UnsafeMutablePointer<Float>.allocate(capacity: batch * $0) }
        deltas = sizes.dropFirst().map { UnsafeMutablePointer<Float>.allocate(capacity: batch * $0) }
        var count = 0
        for layer in 0..<(sizes.count - 1) { count += sizes[layer] * sizes[layer + 1] + sizes[layer + 1] }
        parameterCount = count
        gradient = UnsafeMutablePointer<Float>.allocate(capacity: count)
    }

    func release() {
        activations.forEach { $0.deallocate() }
        deltas.forEach { $0.deallocate() }
        gradient.deallocate()
    }

    func load<C: Collection<Int>>(_ data: LabeledData, rows: C) {
        let width = sizes[0]
        data.features.withUnsafeBufferPointer { features in
            var target = activations[0]
            for row in rows {
                (target).update(from: features.baseAddress! + row * width, count: width)
                target += width
            }
        }
    }

    /// Forward pass over `rows` rows already loaded; the last layer holds logits.
    func forward(_ params: UnsafePointer<Float>, rows: Int) {
        var offset = 0
        for layer in 0..<(sizes.count - 1) {
            let inputs = sizes[layer], outputs = sizes[layer + 1]
            let weight = params + offset, bias = params + offset + inputs * outputs
            offset += inputs * outputs + outputs
            let x = activations[layer], y = activations[layer + 1]
            let hidden = layer < sizes.count - 2
            var b = 0
            while b < rows {
                let xRow = x + b * inputs
                var o = 0
                while o < outputs {
                    let wRow = weight + o * inputs
                    var s0: Float = 0, s1: Float = 0, s2: Float = 0, s3: Float = 0
                    var i = 0
                    while i + 4 <= inputs {
                        s0 += xRow[i] * wRow[i]; s1 += xRow[i + 1] * wRow[i + 1]
                        s2 += xRow[i + 2] * wRow[i + 2]; s3 += xRow[i + 3] * wRow[i + 3]
                        i += 4
                    }
                    while i < inputs { s0 += xRow[i] * wRow[i]; i += 1 }
                    let value = (s0 + s1) + (s2 + s3) + bias[o]
                    y[b * outputs + o] = hidden ? max(0, value) : value
                    o += 1
                }
                b += 1
            }
        }
    }

    /// Softmax of the logits in place; returns Σ cross-entropy and the number of correct argmaxes.
    func softmax(labels: [Int32], rows: some Collection<Int>) -> (loss: Double, correct: Int) {
        let classes = sizes[sizes.count - 1]
        let logits = activations[sizes.count - 1]
        var loss = 0.0
        var correct = 0
        for (b, row) in rows.enumerated() {
            let z = logits + b * classes
            var top: Float = z[0]
            var best = 0
            var c = 1
            while c < classes { if z[c] > top { top = z[c]; best = c }; c += 1 }
            var total: Float = 0
            c = 0
            while c < classes { let e = Float.exp(z[c] - top); z[c] = e; total += e; c += 1 }
            let label = Int(labels[row])
            loss -= Double(Float.log(max(z[label] / total, Float.leastNormalMagnitude)))
            if best == label { correct += 1 }
            let inverse = 1 / total
            c = 0
            while c < classes { z[c] *= inverse; c += 1 }
        }
        return (loss, correct)
    }

    func evaluate(_ flat: inout [Float], data: LabeledData, rows: Range<Int>) -> (Double, Int) {
        load(data, rows: rows)
        flat.withUnsafeBufferPointer { forward($0.baseAddress!, rows: rows.count) }
        return softmax(labels: data.labels, rows: rows)
    }

    /// One SGD step on `rows`; returns the batch's summed loss.
    func step(_ flat: inout [Float], global: [Float], data: LabeledData, rows: ArraySlice<Int>, rate: Float, mu: Float) -> Double {
        let n = rows.count
        load(data, rows: rows)
        flat.withUnsafeBufferPointer { forward($0.baseAddress!, rows: n) }
        let (loss, _) = softmax(labels: data.labels, rows: rows)
        // Output delta: (p − onehot) / n.
        let classes = sizes[sizes.count - 1]
        let last = sizes.count - 2
        let top = deltas[last], probabilities = activations[sizes.count - 1]
        let scale = 1 / Float(n)
        for (b, row) in rows.enumerated() {
            var c = 0
            while c < classes { top[b * classes + c] = probabilities[b * classes + c] * scale; c += 1 }
            top[b * classes + Int(data.labels[row])] -= scale
        }
        flat.withUnsafeMutableBufferPointer { buffer in
            let params = buffer.baseAddress!
            var offsets: [Int] = []
            var offset = 0
            for layer in 0..<(sizes.count - 1) { offsets.append(offset); offset += sizes[layer] * sizes[layer + 1] + sizes[layer + 1] }
            var layer = last
            while layer >= 0 {
                let inputs = sizes[layer], outputs = sizes[layer + 1]
                let weight = params + offsets[layer]
                let gWeight = gradient + offsets[layer], gBias = gradient + offsets[layer] + inputs * outputs
                gWeight.update(repeating: 0, count: inputs * outputs + outputs)
                let delta = deltas[layer], x = activations[layer]
                var b = 0
                while b < n {
                    let d = delta + b * outputs, xRow = x + b * inputs
                    var o = 0
                    while o < outputs {
                        let g = d[o]
                        if g != 0 {
                            gBias[o] += g
                            let gRow = gWeight + o * inputs
                            var i = 0
                            while i < inputs { gRow[i] += g * xRow[i]; i += 1 }
                        }
                        o += 1
                    }
                    b += 1
                }
                if layer > 0 {
                    // delta of the layer below: (delta · W) masked by ReLU (activation > 0).
                    let below = deltas[layer - 1]
                    below.update(repeating: 0, count: n * inputs)
                    b = 0
                    while b < n {
                        let d = delta + b * outputs, out = below + b * inputs, xRow = x + b * inputs
                        var o = 0
                        while o < outputs {
                            let g = d[o]
                            let wRow = weight + o * inputs
                            var i = 0
                            while i < inputs { out[i] += g * wRow[i]; i += 1 }
                            o += 1
                        }
                        var i = 0
                        while i < inputs { if xRow[i] <= 0 { out[i] = 0 }; i += 1 }
                        b += 1
                    }
                }
                layer -= 1
            }
            var i = 0
            if mu > 0 {
                global.withUnsafeBufferPointer { g in
                    while i < parameterCount { params[i] -= rate * (gradient[i] + mu * (params[i] - g[i])); i += 1 }
                }
            } else {
                while i < parameterCount { params[i] -= rate * gradient[i]; i += 1 }
            }
        }
        return loss
    }
}
