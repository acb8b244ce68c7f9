@testable import StarlingLearning
import StarlingTasks
import Testing

func vector(_ values: [Float], name: String = "w") throws -> ModelWeights { try model([(name, [values.count], values)]) }

func aggregate(_ algorithm: AggregationAlgorithm, base: ModelWeights? = nil, state: ServerOptimizerState? = nil,
               _ updates: [([Float], UInt64)]) throws -> AggregationResult {
    try aggregate(algorithm, [:], base: base, state: state, updates)
}

func aggregate(_ algorithm: AggregationAlgorithm, _ parameters: [String: Double], base: ModelWeights? = nil,
               state: ServerOptimizerState? = nil, _ updates: [([Float], UInt64)]) throws -> AggregationResult {
    var aggregator = RoundAggregator(settings: AggregationSettings(algorithm: algorithm, parameters: parameters), base: base, state: state)
    for (values, samples) in updates { try aggregator.add(try vector(values), sampleCount: samples, metrics: [:]) }
    return try aggregator.finish()
}

func close(_ a: [Float], _ b: [Double], tolerance: Double = 1e-6) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { abs(Double($0) - $1) <= tolerance * max(1, abs($1)) }
}

@Suite("aggregation")
struct AggregationTests {
    @Test("FedAvg and FedProx: the sample-weighted mean; metrics weighted by samples over those who reported")
    func fedAvg() throws {
        for algorithm in [AggregationAlgorithm.fedAvg, .fedProx] {
            var aggregator = RoundAggregator(settings: AggregationSettings(algorithm: algorithm), base: nil, state: nil)
            try aggregator.add(try vector([1, 2]), sampleCount: 1, metrics: ["loss": 4, "accuracy": 0.5])
            try aggregator.add(try vector([4, 8]), sampleCount: 3, metrics: ["loss": 2])
            let result = try aggregator.finish()
            #expect(result.model["w"]?.values == [3.25, 6.5])
            #expect(result.metrics == ["loss": 2.5, "accuracy": 0.5])
            #expect(result.sampleCount == 4 && result.updatesUsed == 2 && result.state == nil)
            #expect(aggregator.acceptedCount == 2)
        }
    }

    @Test("FedMedian: coordinate-wise median, the mean of the middle two for an even count, samples ignored")
    func median() throws {
        let result = try aggregate(.fedMedian, [([1, 0], 100), ([3, 5], 1), ([10, 6], 1), ([4, -1], 1)])
        #expect(result.model["w"]?.values == [3.5, 2.5])
        let odd = try aggregate(.fedMedian, [([1], 1), ([9], 1), ([2], 1)])
        #expect(odd.model["w"]?.values == [2])
    }

    @Test("TrimmedMean: drops ⌊β·n⌋ from each end (β = 0.2 by default) and averages the rest")
    func trimmedMean() throws {
        let result = try aggregate(.trimmedMean, [([1, 5], 1), ([2, 5], 1), ([3, 5], 1), ([4, 5], 1), ([100, -1000], 1)])
        #expect(result.model["w"]?.values == [3, 5])
        let wider = try aggregate(.trimmedMean, ["trim_fraction": 0.4], [([1], 1), ([2], 1), ([3], 1), ([4], 1), ([100], 1)])
        #expect(wider.model["w"]?.values == [3])
    }

    @Test("Krum picks a non-outlier; Multi-Krum averages the best num_to_keep")
    func krum() throws {
        let updates: [([Float], UInt64)] = [([10, 10], 5), ([0, 0], 1), ([0.1, 0], 1), ([0, 0.1], 2)]
        let chosen = try aggregate(.krum, ["num_malicious": 1], updates)
        #expect(chosen.model["w"]?.values == [0, 0])
        #expect(chosen.updatesUsed == 1 && chosen.sampleCount == 1)
        let kept = try aggregate(.multiKrum, ["num_malicious": 1, "num_to_keep": 3], updates)
        #expect(close(kept.model["w"]!.values, [0.1 / 4, 0.2 / 4]))
        #expect(kept.updatesUsed == 3 && kept.sampleCount == 4)
        // Default num_to_keep = n − f = 3.
        #expect(try aggregate(.multiKrum, ["num_malicious": 1], updates).updatesUsed == 3)
    }

    @Test("FedAdam: Flower's formula over two rounds, with its bias-corrected rate")
    func fedAdam() throws {
        let base = try vector([1])
        let first = try aggregate(.fedAdam, base: base, [([0.5], 2)])
        let rate1 = 0.1 * (1 - 0.99 * 0.99).squareRoot() / (1 - 0.9 * 0.9)
        var m = 0.1 * -0.5, v = 0.01 * 0.25
        let x1 = 1 + rate1 * m / (v.squareRoot() + 1e-9)
        #expect(close(first.model["w"]!.values, [x1]))
        #expect(first.state?.steps == 1)
        let second = try aggregate(.fedAdam, base: first.model, state: first.state, [([0.5], 2)])
        let delta = 0.5 - x1
        m = 0.9 * m + 0.1 * delta
        v = 0.99 * v + 0.01 * delta * delta
        let rate2 = 0.1 * (1 - 0.99 * 0.99 * 0.99).squareRoot() / (1 - 0.9 * 0.9 * 0.9)
        #expect(close(second.model["w"]!.values, [x1 + rate2 * m / (v.squareRoot() + 1e-9)], tolerance: 1e-5))
        #expect(second.state?.steps == 2)
    }

    @Test("FedYogi, FedAdagrad and FedAvgM one step each, as Flower computes them")
    func otherOptimizers() throws {
        let base = try vector([1])
        let yogi = try aggregate(.fedYogi, base: base, [([0.5], 1)])
        #expect(close(yogi.model["w"]!.values, [1 + 0.01 * -0.05 / (0.05 + 1e-3)]))
        let adagrad = try aggregate(.fedAdagrad, base: base, [([0.5], 1)])
        #expect(close(adagrad.model["w"]!.values, [1 + 0.1 * -0.5 / (0.5 + 1e-9)]))
        let parameters = ["server_momentum": 0.9, "server_learning_rate": 1.0]
        let m1 = try aggregate(.fedAvgM, parameters, base: base, [([0.5], 1)])
        #expect(m1.model["w"]?.values == [0.5])
        let m2 = try aggregate(.fedAvgM, parameters, base: m1.model, state: m1.state, [([0.25], 1)])
        #expect(close(m2.model["w"]!.values, [0.5 - (0.9 * 0.5 + 0.25)]))
        // Defaults (rate 1, no momentum) are FedAvg.
        #expect(try aggregate(.fedAvgM, base: base, [([0.5], 1), ([0.25], 3)]).model["w"]?.values == [0.3125])
    }

    @Test("optimiser state round-trips through safetensors and carries on the same")
    func stateFile() throws {
        let base = try model([("a", [2, 2], [1, 2, 3, 4]), ("b", [], [5])])
        let update = try model([("a", [2, 2], [0, 2, 4, 4]), ("b", [], [4])])
        for (algorithm, parameters) in [(AggregationAlgorithm.fedAdam, [String: Double]()), (.fedYogi, [:]), (.fedAdagrad, [:]),
                                        (.fedAvgM, ["server_momentum": 0.5]), (.fedAvgM, [:])] {
            let settings = AggregationSettings(algorithm: algorithm, parameters: parameters)
            var first = RoundAggregator(settings: settings, base: base, state: nil)
            try first.add(update, sampleCount: 3, metrics: [:])
            let state = try #require(try first.finish().state)
            let restored = try ServerOptimizerState(safetensors: try state.safetensors())
            #expect(restored == state)
            var direct = RoundAggregator(settings: settings, base: base, state: state)
            var viaFile = RoundAggregator(settings: settings, base: base, state: restored)
            try direct.add(update, sampleCount: 1, metrics: [:])
            try viaFile.add(update, sampleCount: 1, metrics: [:])
            #expect(try direct.finish().model == viaFile.finish().model)
        }
        #expect(throws: LearningError.self) { try ServerOptimizerState(safetensors: SafeTensors.encode(base)) }
    }

    @Test("without a base model the server optimisers return the weighted mean and a fresh state")
    func noBase() throws {
        for algorithm in [AggregationAlgorithm.fedAdam, .fedYogi, .fedAdagrad, .fedAvgM] {
            let result = try aggregate(algorithm, [([1], 1), ([3], 1)])
            #expect(result.model["w"]?.values == [2])
            #expect(result.state?.steps == 0)
            #expect(result.state?.algorithm == algorithm)
        }
    }

    @Test("bad updates are rejected with a reason and change nothing")
    func rejections() throws {
        for algorithm in AggregationAlgorithm.allCases {
            var aggregator = RoundAggregator(settings: AggregationSettings(algorithm: algorithm), base: nil, state: nil)
            try aggregator.add(try model([("a", [2], [1, 2]), ("b", [1], [3])]), sampleCount: 2, metrics: ["loss": 1])
            let before = try aggregator.finish()
            let cases: [(ModelWeights, UInt64, [String: Double], String)] = [
                (try model([("a", [2], [1, 2])]), 1, [:], "update has 1 tensors, the model 2"),
                (try model([("a", [1, 2], [1, 2]), ("b", [1], [3])]), 1, [:], "tensor a has shape [1, 2], the model has [2]"),
                (try model([("a", [2], [1, 2]), ("c", [1], [3])]), 1, [:], "update has tensor c where the model has b"),
                (try model([("a", [2], [1, .nan]), ("b", [1], [3])]), 1, [:], "tensor a holds NaN at index 1"),
                (try model([("a", [2], [1, 2]), ("b", [1], [-.infinity])]), 1, [:], "tensor b holds -Inf at index 0"),
                (try model([("a", [2], [1, 2]), ("b", [1], [3])]), 0, [:], "update reports 0 samples"),
                (try model([("a", [2], [1, 2]), ("b", [1], [3])]), 1, ["loss": .nan], "metric loss is nan"),
            ]
            for (update, samples, metrics, reason) in cases {
                #expect(throws: UpdateRejection(reason)) { try aggregator.add(update, sampleCount: samples, metrics: metrics) }
            }
            let after = try aggregator.finish()
            #expect(after.model == before.model && after.metrics == before.metrics && after.sampleCount == before.sampleCount)
            #expect(aggregator.acceptedCount == 1)
        }
        // A base model fixes the layout from the start.
        var based = RoundAggregator(settings: AggregationSettings(algorithm: .fedAvg), base: try vector([0, 0, 0]), state: nil)
        #expect(throws: UpdateRejection("tensor w has shape [2], the model has [3]")) { try based.add(try vector([1, 2]), sampleCount: 1, metrics: [:]) }
        #expect(throws: LearningError("no update was accepted this round")) { try based.finish() }
    }

    @Test("streaming FedAvg equals a naive double-precision weighted mean within 1e-5")
    func streamingMatchesNaive() throws {
        var random = SeededRandom(seed: 7)
        let sizes = [3, 1000, 17, 64]
        var aggregator = RoundAggregator(settings: AggregationSettings(algorithm: .fedAvg), base: nil, state: nil)
        var sums = sizes.map { [Double](repeating: 0, count: $0) }
        var total = 0.0
        for _ in 0..<9 {
            let samples = UInt64(random.next() % 5000 + 1)
            var tensors: [Tensor] = []
            for (index, size) in sizes.enumerated() {
                let values = (0..<size).map { _ in Float(random.unit() * 2 - 1) }
                for i in 0..<size { sums[index][i] += Double(samples) * Double(values[i]) }
                tensors.append(try Tensor(name: "t\(index)", shape: [size], values: values))
            }
            total += Double(samples)
            try aggregator.add(try ModelWeights(tensors: tensors), sampleCount: samples, metrics: [:])
        }
        let result = try aggregator.finish()
        for (index, _) in sizes.enumerated() {
            let got = result.model["t\(index)"]!.values
            for i in got.indices { #expect(abs(Double(got[i]) - sums[index][i] / total) <= 1e-5) }
        }
    }

    @Test("the fold window changes nothing but speed: windows 1, 3 and 8 agree, with rejections in between")
    func foldWindows() throws {
        var results: [ModelWeights] = []
        for window in [1, 3, 8] {
            var random = SeededRandom(seed: 11)
            var aggregator = RoundAggregator(settings: AggregationSettings(algorithm: .fedAvg), base: nil, state: nil)
            aggregator.foldWindow = window
            for index in 0..<10 {
                var values = (0..<37).map { _ in Float(random.unit()) }
                if index % 4 == 3 { values[5] = .infinity }
                let update = try vector(values)
                do {
                    try aggregator.add(update, sampleCount: UInt64(index + 1), metrics: [:])
                } catch {
                    #expect(error.reason == "tensor w holds +Inf at index 5")
                }
            }
            #expect(aggregator.acceptedCount == 8)
            results.append(try aggregator.finish().model)
        }
        for result in results.dropFirst() {
            #expect(close(result["w"]!.values, results[0]["w"]!.values.map(Double.init), tolerance: 1e-6))
        }
    }

    @Test("a window of 30 updates (folded 8 sources per pass) agrees with folding one at a time")
    func wideWindowsFoldInGroups() throws {
        var results: [ModelWeights] = []
        for window in [1, 30] {
            var random = SeededRandom(seed: 5)
            var aggregator = RoundAggregator(settings: AggregationSettings(algorithm: .fedAvg), base: nil, state: nil)
            aggregator.foldWindow = window
            for index in 0..<30 {
                try aggregator.add(try vector((0..<53).map { _ in Float(random.unit()) }), sampleCount: UInt64(index % 7 + 1), metrics: [:])
            }
            results.append(try aggregator.finish().model)
        }
        #expect(close(results[1]["w"]!.values, results[0]["w"]!.values.map(Double.init), tolerance: 1e-6))
    }

    @Test("model-sized buffers (hinted as huge pages) aggregate like small ones")
    func hugePageSizedBuffers() throws {
        let count = LearningLimits.hugePageHintBytes / 4 + 4_099  // past the hint, not 2 MiB aligned
        var aggregator = RoundAggregator(settings: AggregationSettings(algorithm: .fedAvg), base: nil, state: nil)
        aggregator.foldWindow = 2
        try aggregator.add(try vector((0..<count).map { Float($0 % 1000) }), sampleCount: 1, metrics: [:])
        try aggregator.add(try vector((0..<count).map { Float($0 % 1000) + 3 }), sampleCount: 2, metrics: [:])
        let mean = try aggregator.finish().model["w"]!.values
        #expect(mean.count == count)
        #expect([0, 1, 999, count / 2, count - 1].allSatisfy { abs(mean[$0] - (Float($0 % 1000) + 2)) <= 1e-3 })
    }

    @Test("settings: Flower names and aliases, defaults, unknown keys ignored, bad numbers refused")
    func settings() throws {
        let parsed = try AggregationSettings.parse(algorithm: .fedAdam, parameters: [("eta", "0.5"), ("beta_1", " 0.8 "), ("epochs", "x"), ("other", nil)])
        #expect(parsed.parameters == ["server_learning_rate": 0.5, "beta_1": 0.8])
        #expect(parsed.value("beta_2") == 0.99)
        #expect(parsed.value("tau") == 1e-9)
        #expect(AggregationSettings(algorithm: .trimmedMean).value("beta") == 0.2)
        #expect(throws: LearningError("parameter tau is \"abc\", not a finite number")) {
            try AggregationSettings.parse(algorithm: .fedAdam, parameters: [("tau", "abc")])
        }
        #expect(throws: LearningError.self) { try AggregationSettings.parse(algorithm: .fedAdam, parameters: [("beta_1", "1.5")]) }
        #expect(throws: LearningError.self) { try AggregationSettings.parse(algorithm: .krum, parameters: [("num_malicious", "1.5")]) }
        #expect(throws: LearningError.self) { try AggregationSettings.parse(algorithm: .fedProx, parameters: [("proximal_mu", nil)]) }
    }
}
