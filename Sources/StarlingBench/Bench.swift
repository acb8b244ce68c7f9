#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import StarlingLearning
import StarlingTasks

enum Bench {
    static func main(_ arguments: [String]) {
        guard let command = arguments.first else { usage() }
        var options: [String: Int] = [:]
        var index = 1
        while index < arguments.count {
            let key = arguments[index]
            guard key.hasPrefix("--"), index + 1 < arguments.count, let value = Int(arguments[index + 1]), value > 0 else { usage() }
            options[String(key.dropFirst(2))] = value
            index += 2
        }
        do {
            switch command {
            case "aggregate":
                guard let updates = options["updates"], let parameters = options["parameters"] else { usage() }
                try aggregate(updates: updates, parameters: parameters, repeats: options["repeat"] ?? 3, window: options["window"])
            case "digits":
                try digits(rounds: options["rounds"] ?? 10, localEpochs: options["local-epochs"] ?? 5, epochs: options["epochs"] ?? 50,
                           mlpRate: Double(options["mlp-rate-milli"] ?? 300) / 1000, hidden: options["hidden"] ?? 32)
            case "predict":
                try predict(batch: options["batch"] ?? 64, hidden: options["hidden"] ?? 32, repeats: options["repeat"] ?? 10_000)
            default: usage()
            }
        } catch {
            print("starling-bench: \(error)")
            exitFailure()
        }
    }

    static func usage() -> Never {
        print("usage: starling-bench aggregate --updates N --parameters P [--repeat R] [--window W]\n       starling-bench digits [--rounds R] [--local-epochs E] [--epochs E] [--hidden H] [--mlp-rate-milli M]\n       starling-bench predict [--batch B] [--hidden H] [--repeat R]")
        exitFailure()
    }

    /// Class probabilities of `batch` digits through a served MLP (`BuiltinClassifier`, what an
    /// inference worker runs per batch): CPU time per batch.
    static func predict(batch: Int, hidden: Int, repeats: Int) throws {
        let data = try Digits.load()
        let count = min(batch, data.count)
        let trainer = BuiltinTrainer(kind: .mlp, featureCount: data.featureCount, classCount: data.classCount, hiddenUnits: hidden)
        let classifier = try BuiltinClassifier(kind: .mlp, weights: trainer.initialWeights(seed: 1))
        let features = Array(data.features.prefix(count * data.featureCount))
        var checksum: Float = 0
        let start = cpuNow()
        for _ in 0..<repeats { checksum += try classifier.probabilities(features, count: count)[0] }
        let each = (cpuNow() - start) / Double(repeats)
        line([("bench", "\"predict\""), ("batch", "\(count)"), ("hidden", "\(hidden)"), ("microseconds_per_batch", "\(each * 1e6)"),
              ("checksum", "\(checksum)")])
    }

    static func exitFailure() -> Never {
        exit(1)
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
    }

    /// This thread's CPU time (user + system, so page faults count): on a shared machine, other
    /// processes' time slices do not count against a measurement. Equals wall time on an idle core.
    static func cpuNow() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
    }

    static func line(_ fields: [(String, String)]) {
        print("{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}")
    }

    /// FedAvg through RoundAggregator (add every update, then finish) against a plain SIMD sum of the
    /// same floats; best of `repeats`. GB/s counts the update bytes (N × P × 4) once.
    static func aggregate(updates: Int, parameters: Int, repeats: Int, window: Int?) throws {
        var models: [ModelWeights] = []
        var samples: [UInt64] = []
        for update in 0..<updates {
            let offset = Float(update) * 0.001
            let values = [Float](unsafeUninitializedCapacity: parameters) { buffer, count in
                for i in 0..<parameters { buffer[i] = Float(i & 1023) * 0.000_976_5625 + offset }
                count = parameters
            }
            models.append(try ModelWeights(tensors: [try Tensor(name: "w", shape: [parameters], values: values)]))
            samples.append(UInt64(100 + update * 7))
        }
        let arrays = models.map { $0.tensors[0].values }
        let bytes = Double(updates) * Double(parameters) * 4
        let clock = ContinuousClock()
        var best = (total: Double.infinity, add: 0.0, finish: 0.0, wall: 0.0)
        var bestPlain = (total: Double.infinity, wall: 0.0)
        var check: Float = 0
        // Interleaved, best of `repeats` each (thread CPU time), so both see the same machine load.
        for _ in 0..<repeats {
            let wallStart = clock.now
            let start = cpuNow()
            var aggregator = RoundAggregator(settings: AggregationSettings(algorithm: .fedAvg), base: nil, state: nil)
            if let window { aggregator.foldWindow = window }
            for (model, count) in zip(models, samples) { try aggregator.add(model, sampleCount: count, metrics: [:]) }
            let added = cpuNow()
            let result = try aggregator.finish()
            let end = cpuNow()
            let wall = seconds(clock.now - wallStart)
            if end - start < best.total { best = (end - start, added - start, end - added, wall) }
            check += result.model.tensors[0].values[parameters / 2]
            let plainWall = clock.now
            let plainStart = cpuNow()
            check += ReadBandwidthProbe.sum(arrays)
            let plain = cpuNow() - plainStart
            if plain < bestPlain.total { bestPlain = (plain, seconds(clock.now - plainWall)) }
        }
        line([("benchmark", "\"aggregate\""), ("impl", "\"starling-fedavg\""), ("updates", "\(updates)"), ("parameters", "\(parameters)"),
              ("seconds", "\(best.total)"), ("gbps", "\(bytes / best.total / 1e9)"), ("add_seconds", "\(best.add)"),
              ("finish_seconds", "\(best.finish)"), ("wall_seconds", "\(best.wall)")])
        // The batch case numpy measures: every update in memory, folded in one pass, values checked
        // where they arrived (the coordinator decodes with `requireFinite`), as numpy checks none.
        var bestBatch = (total: Double.infinity, wall: 0.0)
        for _ in 0..<repeats {
            let wallStart = clock.now
            let start = cpuNow()
            var aggregator = RoundAggregator(settings: AggregationSettings(algorithm: .fedAvg), base: nil, state: nil)
            aggregator.foldWindow = updates
            aggregator.foldWindowBytes = Int.max
            for (model, count) in zip(models, samples) {
                try aggregator.add(model, sampleCount: count, metrics: [:], valuesChecked: true)
            }
            let result = try aggregator.finish()
            let total = cpuNow() - start
            if total < bestBatch.total { bestBatch = (total, seconds(clock.now - wallStart)) }
            check += result.model.tensors[0].values[parameters / 2]
        }
        line([("benchmark", "\"aggregate\""), ("impl", "\"starling-fedavg-batch\""), ("updates", "\(updates)"),
              ("parameters", "\(parameters)"), ("seconds", "\(bestBatch.total)"), ("gbps", "\(bytes / bestBatch.total / 1e9)"),
              ("wall_seconds", "\(bestBatch.wall)")])
        line([("benchmark", "\"aggregate\""), ("impl", "\"plain-sum\""), ("updates", "\(updates)"), ("parameters", "\(parameters)"),
              ("seconds", "\(bestPlain.total)"), ("gbps", "\(bytes / bestPlain.total / 1e9)"), ("wall_seconds", "\(bestPlain.wall)")])
        if check.isNaN { print("unexpected NaN") }
    }

    /// Digits accuracy of the built-in models, central and federated (FedAvg, Dirichlet 0.5, 5 peers).
    static func digits(rounds: Int, localEpochs: Int, epochs: Int, mlpRate: Double, hidden: Int) throws {
        let (train, test) = Digits.stratifiedSplit(try Digits.load(), testFraction: 0.2, seed: 0)
        let clock = ContinuousClock()
        for kind in BuiltinWorker.allCases {
            let rate = kind == .logreg ? 0.5 : mlpRate
            let trainer = BuiltinTrainer(kind: kind, featureCount: 64, classCount: 10, hiddenUnits: hidden)
            var start = clock.now
            let (weights, _) = try trainer.train(trainer.initialWeights(seed: 0), on: train, epochs: epochs, batchSize: 32,
                                                 learningRate: rate, proximalMu: 0, seed: 0)
            let central = try trainer.evaluate(weights, on: test).accuracy
            line([("benchmark", "\"digits\""), ("model", "\"\(kind.rawValue)\""), ("setting", "\"central\""), ("hidden", "\(kind == .mlp ? hidden : 0)"), ("epochs", "\(epochs)"),
                  ("learning_rate", "\(rate)"), ("accuracy", "\(central)"), ("seconds", "\(seconds(clock.now - start))")])
            for algorithm in [AggregationAlgorithm.fedAvg, .fedProx, .fedAdam] {
                start = clock.now
                let mu = algorithm == .fedProx ? 0.01 : 0
                let accuracy = try Federated.run(kind: kind, algorithm: algorithm, hiddenUnits: hidden, rounds: rounds,
                                                 localEpochs: localEpochs, learningRate: rate, proximalMu: mu)
                line([("benchmark", "\"digits\""), ("model", "\"\(kind.rawValue)\""), ("setting", "\"federated\""),
                      ("algorithm", "\"\(algorithm.rawValue)\""), ("learning_rate", "\(rate)"), ("rounds", "\(rounds)"), ("local_epochs", "\(localEpochs)"),
                      ("peers", "5"), ("alpha", "0.5"), ("accuracy", "\(accuracy)"), ("seconds", "\(seconds(clock.now - start))")])
            }
        }
    }
}
