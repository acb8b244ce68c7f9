import RealModule

/// Why one update was refused; the aggregate is left exactly as it was before `add`.
public struct UpdateRejection: Error, CustomStringConvertible, Equatable {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// Names, shapes and places of a model's tensors in one flat Float buffer.
struct TensorLayout: Sendable, Equatable {
    var name: String
    var shape: [Int]
    var offset: Int
    var count: Int

    static func of(_ model: ModelWeights) -> [TensorLayout] {
        var offset = 0
        return model.tensors.map { tensor in
            defer { offset += tensor.values.count }
            return TensorLayout(name: tensor.name, shape: tensor.shape, offset: offset, count: tensor.values.count)
        }
    }
}

/// What a server optimiser carries from one round to the next: FedAvgM's momentum, and FedAdam's,
/// FedYogi's and FedAdagrad's first and second moments (m, v). Opaque; pass the one from the last
/// `AggregationResult` to the next round's `RoundAggregator`.
public struct ServerOptimizerState: Sendable, Equatable {
    /// The algorithm that produced it. A state of another algorithm, or of another layout, is ignored
    /// (the optimiser starts again from zero moments).
    public internal(set) var algorithm: AggregationAlgorithm
    /// Server optimiser steps applied so far (0 after a round without a base model).
    public internal(set) var steps: Int
    var layout: [TensorLayout]
    /// FedAvgM momentum, or m_t; empty when not in use.
    var first: [Float]
    /// v_t; empty when not in use.
    var second: [Float]
}

/// The outcome of one round.
public struct AggregationResult: Sendable {
    public var model: ModelWeights
    /// Sample-weighted mean of each metric over the accepted updates that reported it.
    public var metrics: [String: Double]
    /// Samples of the updates that make up the model (Krum: the chosen one; Multi-Krum: those kept;
    /// every other algorithm: all accepted updates).
    public var sampleCount: UInt64
    /// For FedAvgM, FedAdam, FedYogi and FedAdagrad: the state for the next round; otherwise nil.
    public var state: ServerOptimizerState?
    /// Updates that make up the model (same rule as `sampleCount`).
    public var updatesUsed: Int
}

/// Folds the updates of one round into a model.
///
/// Memory: FedAvg, FedAvgM, FedProx, FedAdam, FedYogi and FedAdagrad stream: one running
/// sample-weighted mean the size of the model. Accepted updates are folded into it in batches of
/// `foldWindow` (8; at most `LearningLimits.foldWindowBytesMax` bytes), so at most that many are
/// referenced at a time, never all of them. FedMedian, TrimmedMean, Krum and Multi-Krum need every update at once: they keep
/// a reference to each accepted update's values (no copy, but the memory stays in use) until `finish`,
/// at most `LearningLimits.heldUpdatesMax` of them.
public struct RoundAggregator: Sendable {
    public let settings: AggregationSettings
    let base: ModelWeights?
    let state: ServerOptimizerState?
    var layout: [TensorLayout]?
    var metadata: [String: String]
    /// Streaming: the sample-weighted mean of the folded updates per tensor (empty until the first
    /// fold). Kept as a mean, not a sum, so that `finish` hands it out without a pass or a copy when
    /// nothing is pending.
    var means: [[Float]] = []
    /// Samples of the folded updates.
    var foldedSamples = 0.0
    /// Streaming: accepted updates not folded yet (references to their values, no copies).
    var pending: [(values: [[Float]], weight: Float)] = []
    /// Holding: each accepted update's tensor values, and its samples.
    var held: [(values: [[Float]], samples: UInt64)] = []
    var totalSamples: UInt64 = 0
    var accepted = 0
    var metricSums: [String: (weighted: Double, weight: Double)] = [:]

    /// Streaming algorithms fold accepted updates in batches of this many, fewer when they would
    /// exceed `LearningLimits.foldWindowBytesMax` (256 MiB: 2 updates of a 25M-parameter model): each
    /// batch costs one pass over the running mean instead of one per update. 1 folds every update
    /// in its own `add`. When updates are still pending, `finish` combines them in one more pass into
    /// a new buffer; otherwise it hands out the running mean without a copy.
    public var foldWindow = 8
    /// The most bytes of updates held pending a fold (default `LearningLimits.foldWindowBytesMax`).
    /// A caller whose updates are all in memory anyway (a batch) may raise it to fold them in one pass.
    public var foldWindowBytes = LearningLimits.foldWindowBytesMax

    public init(settings: AggregationSettings, base: ModelWeights?, state: ServerOptimizerState?) {
        self.settings = settings
        self.base = base
        self.state = state
        self.layout = base.map(TensorLayout.of)
        self.metadata = base?.metadata ?? [:]
    }

    /// Updates accepted so far.
    public var acceptedCount: Int { accepted }

    /// Validates the update (layout equal to the base model's, or to the first accepted update's when
    /// there is no base; every value finite; sampleCount > 0; metrics finite) and folds it in. A rejected
    /// update changes nothing.
    ///
    /// `valuesChecked`: the caller already knows every value is finite (`SafeTensors.decode(_:requireFinite:)`
    /// checks while it copies), so the scan is skipped. Passing true for an unchecked update lets a
    /// NaN into the model.
    public mutating func add(_ update: ModelWeights, sampleCount: UInt64, metrics: [String: Double],
                             valuesChecked: Bool = false) throws(UpdateRejection) {
        guard sampleCount > 0 else { throw UpdateRejection("update reports 0 samples") }
        let (total, overflow) = totalSamples.addingReportingOverflow(sampleCount)
        guard !overflow, total <= 1 << 53 else { throw UpdateRejection("the round's sample count would exceed 2^53") }
        if !settings.streams && held.count >= LearningLimits.heldUpdatesMax {
            throw UpdateRejection("\(settings.algorithm.rawValue) holds at most \(LearningLimits.heldUpdatesMax) updates per round")
        }
        guard metrics.count <= LearningLimits.metricsMax else {
            throw UpdateRejection("update reports \(metrics.count) metrics, more than \(LearningLimits.metricsMax)")
        }
        for (name, value) in metrics where !value.isFinite {
            throw UpdateRejection("metric \(name.prefix(60)) is \(value)")
        }
        let expected = layout ?? TensorLayout.of(update)
        guard update.tensors.count == expected.count else {
            throw UpdateRejection("update has \(update.tensors.count) tensors, the model \(expected.count)")
        }
        for (tensor, slot) in zip(update.tensors, expected) {
            guard tensor.name == slot.name else {
                throw UpdateRejection("update has tensor \(tensor.name.prefix(80)) where the model has \(slot.name)")
            }
            guard tensor.shape == slot.shape else {
                throw UpdateRejection("tensor \(tensor.name) has shape \(tensor.shape), the model has \(slot.shape)")
            }
        }
        for tensor in update.tensors where !valuesChecked {
            if let index = VectorMath.firstNonFinite(tensor.values) {
                let value = tensor.values[index]
                throw UpdateRejection("tensor \(tensor.name) holds \(value.isNaN ? "NaN" : (value > 0 ? "+Inf" : "-Inf")) at index \(index)")
            }
        }
        // Accepted: nothing below can fail.
        if layout == nil {
            layout = expected
            metadata = update.metadata
        }
        totalSamples = total
        accepted += 1
        let weight = Double(sampleCount)
        for (name, value) in metrics {
            let entry = metricSums[name] ?? (0, 0)
            metricSums[name] = (entry.weighted + weight * value, entry.weight + weight)
        }
        if settings.streams {
            pending.append((update.tensors.map(\.values), Float(weight)))
            let modelBytes = max(4, (expected.last.map { $0.offset + $0.count } ?? 0) * 4)
            if pending.count >= max(1, min(foldWindow, foldWindowBytes / modelBytes)) { fold() }
        } else {
            held.append((update.tensors.map(\.values), sampleCount))
        }
    }

    /// Folds the pending updates into the running means in one pass per tensor:
    /// mean' = mean · (W / W') + Σ (w_j / W') · u_j.
    private mutating func fold() {
        guard !pending.isEmpty, let layout else { return }
        let total = foldedSamples + pending.reduce(0) { $0 + Double($1.weight) }
        let weights = pending.map { Float(Double($0.weight) / total) }
        let baseScale = Float(foldedSamples / total)
        if means.isEmpty {
            means = layout.indices.map { t in
                VectorMath.combined(base: nil, sources: pending.map { $0.values[t] }, weights: weights, count: layout[t].count)
            }
        } else {
            for t in layout.indices {
                VectorMath.accumulate(pending.map { $0.values[t] }, weights: weights, baseScale: baseScale, into: &means[t])
            }
        }
        foldedSamples = total
        pending.removeAll()
    }

    /// The weighted mean per tensor: the running means as they are when nothing is pending (no copy),
    /// else combined with the pending updates in one pass per tensor.
    private func streamedMean(_ layout: [TensorLayout]) -> [[Float]] {
        if pending.isEmpty { return means }
        let total = Double(totalSamples)
        let weights = pending.map { Float(Double($0.weight) / total) }
        let baseScale = Float(foldedSamples / total)
        return layout.indices.map { t in
            VectorMath.combined(base: means.isEmpty ? nil : means[t], baseScale: baseScale, sources: pending.map { $0.values[t] },
                                weights: weights, count: layout[t].count)
        }
    }

    /// The round's model. Throws when no update was accepted.
    public func finish() throws(LearningError) -> AggregationResult {
        guard accepted > 0, let layout else { throw LearningError("no update was accepted this round") }
        var metrics: [String: Double] = [:]
        for (name, entry) in metricSums { metrics[name] = entry.weighted / entry.weight }
        switch settings.algorithm {
        case .fedAvg, .fedProx, .fedAvgM, .fedAdam, .fedYogi, .fedAdagrad:
            let means = streamedMean(layout)
            if settings.algorithm == .fedAvg || settings.algorithm == .fedProx {
                return AggregationResult(model: try model(tensors: means, layout), metrics: metrics, sampleCount: totalSamples,
                                         state: nil, updatesUsed: accepted)
            }
            let (values, nextState) = applyServerOptimizer(mean: means.flatMap { $0 }, layout: layout)
            return AggregationResult(model: try model(values, layout), metrics: metrics, sampleCount: totalSamples,
                                     state: nextState, updatesUsed: accepted)
        case .fedMedian:
            let values = coordinatewise(layout) { column in
                column.sort()
                let n = column.count
                return n % 2 == 1 ? column[n / 2] : (column[n / 2 - 1] + column[n / 2]) / 2
            }
            return AggregationResult(model: try model(values, layout), metrics: metrics, sampleCount: totalSamples, state: nil, updatesUsed: accepted)
        case .trimmedMean:
            let cut = Int(settings.number("trim_fraction") * Double(held.count))
            let values = coordinatewise(layout) { column in
                column.sort()
                var total = 0.0
                for index in cut..<(column.count - cut) { total += Double(column[index]) }
                return Float(total / Double(column.count - 2 * cut))
            }
            return AggregationResult(model: try model(values, layout), metrics: metrics, sampleCount: totalSamples, state: nil, updatesUsed: accepted)
        case .krum, .multiKrum:
            let chosen = krumSelection()
            if settings.algorithm == .krum {
                let index = chosen[0]
                return AggregationResult(model: try model(held[index].values.flatMap { $0 }, layout), metrics: metrics,
                                         sampleCount: held[index].samples, state: nil, updatesUsed: 1)
            }
            var total: UInt64 = 0
            var acc = [Float](repeating: 0, count: layout.last.map { $0.offset + $0.count } ?? 0)
            for index in chosen {
                total += held[index].samples
                for (values, slot) in zip(held[index].values, layout) {
                    VectorMath.addScaled(values, weight: Float(held[index].samples), into: &acc, at: slot.offset)
                }
            }
            let mean = VectorMath.scaled(acc[...], by: Float(1.0 / Double(total)))
            return AggregationResult(model: try model(mean, layout), metrics: metrics, sampleCount: total, state: nil, updatesUsed: chosen.count)
        }
    }

    private func model(tensors values: [[Float]], _ layout: [TensorLayout]) throws(LearningError) -> ModelWeights {
        var tensors: [Tensor] = []
        tensors.reserveCapacity(layout.count)
        for (slot, values) in zip(layout, values) { tensors.append(try Tensor(name: slot.name, shape: slot.shape, values: values)) }
        return try ModelWeights(tensors: tensors, metadata: metadata)
    }

    private func model(_ flat: [Float], _ layout: [TensorLayout]) throws(LearningError) -> ModelWeights {
        var tensors: [Tensor] = []
        tensors.reserveCapacity(layout.count)
        for slot in layout {
            tensors.append(try Tensor(name: slot.name, shape: slot.shape, values: Array(flat[slot.offset..<(slot.offset + slot.count)])))
        }
        return try ModelWeights(tensors: tensors, metadata: metadata)
    }

    /// One value per coordinate from the column of held values at that coordinate.
    private func coordinatewise(_ layout: [TensorLayout], _ reduce: (inout [Float]) -> Float) -> [Float] {
        var out: [Float] = []
        out.reserveCapacity(layout.last.map { $0.offset + $0.count } ?? 0)
        var column = [Float](repeating: 0, count: held.count)
        for (tensorIndex, slot) in layout.enumerated() {
            for element in 0..<slot.count {
                for (updateIndex, update) in held.enumerated() { column[updateIndex] = update.values[tensorIndex][element] }
                out.append(reduce(&column))
            }
        }
        return out
    }

    /// Krum (Blanchard et al. 2017) as in Flower's `aggregate_krum`: each update's score is the sum of
    /// squared distances to its n − f − 2 nearest others (at least 1); Krum keeps the lowest score,
    /// Multi-Krum the `num_to_keep` lowest (default n − f). Ties go to the earlier update.
    func krumSelection() -> [Int] {
        let n = held.count
        let f = Int(settings.number("num_malicious"))
        var distances = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for i in 0..<n {
            for j in (i + 1)..<max(n, i + 1) {
                var d = 0.0
                for (a, b) in zip(held[i].values, held[j].values) { d += VectorMath.squaredDistance(a, b) }
                distances[i][j] = d
                distances[j][i] = d
            }
        }
        let closest = min(max(1, n - f - 2), n - 1)
        let scores: [Double] = (0..<n).map { i in
            var others = distances[i]
            others.remove(at: i)
            return others.sorted().prefix(closest).reduce(0, +)
        }
        let order = (0..<n).sorted { (scores[$0], $0) < (scores[$1], $1) }
        if settings.algorithm == .krum { return [order[0]] }
        let keep = settings.value("num_to_keep").map(Int.init) ?? (n - f)
        return Array(order.prefix(min(n, max(1, keep))))
    }

    /// FedAvgM / FedAdam / FedYogi / FedAdagrad on the pseudo-gradient, as Flower 1.x; others: the mean.
    private func applyServerOptimizer(mean: [Float], layout: [TensorLayout]) -> ([Float], ServerOptimizerState?) {
        let algorithm = settings.algorithm
        guard [.fedAvgM, .fedAdam, .fedYogi, .fedAdagrad].contains(algorithm) else { return (mean, nil) }
        let previous = state.flatMap { $0.algorithm == algorithm && $0.layout == layout ? $0 : nil }
        guard let base else {
            // Round without a model: the weighted mean, and a fresh state.
            return (mean, ServerOptimizerState(algorithm: algorithm, steps: 0, layout: layout, first: [], second: []))
        }
        let x = base.tensors.flatMap(\.values)
        let eta = Float(settings.number("server_learning_rate"))
        if algorithm == .fedAvgM {
            let momentum = Float(settings.number("server_momentum"))
            var next = ServerOptimizerState(algorithm: algorithm, steps: (previous?.steps ?? 0) + 1, layout: layout, first: [], second: [])
            if eta == 1 && momentum == 0 { return (mean, next) }  // Flower: no server optimisation
            var direction = [Float](repeating: 0, count: x.count)
            for i in 0..<x.count { direction[i] = x[i] - mean[i] }  // pseudo-gradient
            if momentum > 0 {
                if let old = previous?.first, old.count == x.count {
                    for i in 0..<x.count { direction[i] = momentum * old[i] + direction[i] }
                }
                next.first = direction
            }
            var out = x
            for i in 0..<x.count { out[i] = x[i] - eta * direction[i] }
            return (out, next)
        }
        let beta1 = Float(settings.number("beta_1"))
        let beta2 = Float(settings.number("beta_2"))
        let tau = Float(settings.number("tau"))
        let steps = (previous?.steps ?? 0) + 1
        var m = previous?.first ?? []
        var v = previous?.second ?? []
        if m.count != x.count { m = [Float](repeating: 0, count: x.count) }
        if v.count != x.count { v = [Float](repeating: 0, count: x.count) }
        var rate = eta
        if algorithm == .fedAdam {
            // Flower's bias-corrected rate, with its exponent server_round + 1 (server_round = steps).
            let b1 = settings.number("beta_1"), b2 = settings.number("beta_2")
            let power = Double(steps) + 1
            rate = Float(settings.number("server_learning_rate") * (1 - Double.pow(b2, power)).squareRoot() / (1 - Double.pow(b1, power)))
        }
        var out = x
        for i in 0..<x.count {
            let delta = mean[i] - x[i]
            m[i] = beta1 * m[i] + (1 - beta1) * delta
            let square = delta * delta
            switch algorithm {
            case .fedAdam: v[i] = beta2 * v[i] + (1 - beta2) * square
            case .fedYogi:
                let difference = v[i] - square
                let sign: Float = difference > 0 ? 1 : (difference < 0 ? -1 : 0)
                v[i] = v[i] - (1 - beta2) * square * sign
            default: v[i] = v[i] + square  // FedAdagrad
            }
            out[i] = x[i] + rate * m[i] / (v[i].squareRoot() + tau)
        }
        return (out, ServerOptimizerState(algorithm: algorithm, steps: steps, layout: layout, first: m, second: v))
    }
}
