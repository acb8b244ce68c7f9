import StarlingTaskYAML
import StarlingTasks
import Testing

/// IncrementalLearningJob triggers: Sedna's operator spellings, indexed metrics, UTC windows that
/// may wrap past midnight, and the check period.
@Suite struct TriggerEvaluationTests {
    static let midnight: UInt64 = 1_800_000_000 - 1_800_000_000 % 86_400  // a UTC midnight

    static func at(_ hour: Int, _ minute: Int) -> UInt64 { midnight + UInt64(hour * 3_600 + minute * 60) }

    @Test func everySpellingOfEveryOperator() {
        let expected: [(String, TriggerCondition.Comparison)] = [
            ("gt", .greater), (">", .greater), ("ge", .greaterOrEqual), (">=", .greaterOrEqual), ("eq", .equal), ("=", .equal),
            ("==", .equal), ("ne", .notEqual), ("!=", .notEqual), ("le", .lessOrEqual), ("<=", .lessOrEqual), ("lt", .less),
            ("<", .less),
        ]
        for (spelling, comparison) in expected { #expect(TriggerCondition.Comparison(spelling: spelling) == comparison, "\(spelling)") }
        #expect(TriggerCondition.Comparison(spelling: "=>") == nil && TriggerCondition.Comparison(spelling: "GT") == nil)
        #expect(Set(expected.map(\.0)) == Set(TriggerCondition.Comparison.spellings))
        let holds: [(TriggerCondition.Comparison, [Bool])] = [
            (.greater, [false, false, true]), (.greaterOrEqual, [false, true, true]), (.less, [true, false, false]),
            (.lessOrEqual, [true, true, false]), (.equal, [false, true, false]), (.notEqual, [true, false, true]),
        ]
        for (comparison, answers) in holds {
            let condition = TriggerCondition(metric: "m", comparison: comparison, threshold: 1)
            #expect([0.5, 1, 2].map(condition.holds) == answers, "\(comparison)")
            #expect(!condition.holds(for: .nan))
        }
    }

    @Test func metricsByNameOrIndex() {
        #expect(MetricReference("accuracy") == MetricReference("accuracy"))
        #expect(MetricReference("precision[3]")?.name == "precision" && MetricReference("precision[3]")?.index == 3)
        for bad in ["", "precision[", "precision[-1]", "precision[x]", "a b", "[3]", String(repeating: "m", count: 65)] {
            #expect(MetricReference(bad) == nil, "\(bad)")
        }
        let trigger = Trigger(condition: TriggerCondition(metric: "precision[2]", comparison: .greaterOrEqual, threshold: 0.9))
        let metrics = ["precision": MetricValue(0.4, perClass: [0.1, 0.2, 0.95]), "accuracy": MetricValue(0.8),
                       "num_of_samples": MetricValue(600), "recall": MetricValue(nil, perClass: [0.5])]
        #expect(trigger.evaluate(at: Self.at(12, 0), metrics: metrics) == .fires(value: 0.95))
        let plain = Trigger(condition: TriggerCondition(metric: "num_of_samples", comparison: .greater, threshold: 500))
        #expect(plain.evaluate(at: Self.at(12, 0), metrics: metrics).fires)
        #expect(plain.evaluate(at: Self.at(12, 0), metrics: ["num_of_samples": MetricValue(400)]) == .conditionFalse(value: 400))
        let outOfRange = Trigger(condition: TriggerCondition(metric: "precision[9]", comparison: .greater, threshold: 0))
        #expect(outOfRange.evaluate(at: Self.at(12, 0), metrics: metrics) == .unknownMetric("precision[9]"))
        let macro = Trigger(condition: TriggerCondition(metric: "precision", comparison: .greater, threshold: 0))
        #expect(macro.evaluate(at: Self.at(12, 0), metrics: metrics) == .fires(value: 0.4), "unindexed: the macro average")
        let noAverage = Trigger(condition: TriggerCondition(metric: "recall", comparison: .greater, threshold: 0))
        #expect(noAverage.evaluate(at: Self.at(12, 0), metrics: metrics) == .unknownMetric("recall"))
        let indexedScalar = Trigger(condition: TriggerCondition(metric: "accuracy[0]", comparison: .greater, threshold: 0))
        #expect(indexedScalar.evaluate(at: Self.at(12, 0), metrics: metrics) == .unknownMetric("accuracy[0]"))
    }

    @Test func windowsInUTCMayWrapPastMidnight() {
        let night = TriggerTimer(startMinute: 22 * 60, endMinute: 4 * 60)
        #expect(night.contains(unix: Self.at(23, 30)) && night.contains(unix: Self.at(0, 0)) && night.contains(unix: Self.at(3, 59)))
        #expect(!night.contains(unix: Self.at(4, 0)) && !night.contains(unix: Self.at(12, 0)) && night.contains(unix: Self.at(22, 0)))
        let day = TriggerTimer(startMinute: 9 * 60, endMinute: 17 * 60)
        #expect(day.contains(unix: Self.at(9, 0)) && !day.contains(unix: Self.at(17, 0)) && !day.contains(unix: Self.at(3, 0)))
        #expect(TriggerTimer(startMinute: 60, endMinute: 60).contains(unix: Self.at(13, 13)), "equal ends: always")
        let trigger = Trigger(checkPeriodSeconds: 300, timer: night,
                              condition: TriggerCondition(metric: "num_of_samples", comparison: .greater, threshold: 0))
        #expect(trigger.evaluate(at: Self.at(12, 0), metrics: ["num_of_samples": MetricValue(5)]) == .outsideWindow)
        #expect(trigger.evaluate(at: Self.at(1, 0), metrics: ["num_of_samples": MetricValue(5)]).fires)
        #expect(trigger.nextCheck(after: Self.at(1, 0)) == Self.at(1, 5))
    }

    @Test func theSpecReadsSednaSpellings() throws {
        let yaml = """
            apiVersion: edgeai.io/v1alpha1
            kind: IncrementalLearningJob
            metadata:
              name: learn
            spec:
              initialModel: {name: m0}
              dataset: {name: d0, trainProb: 0.8}
              trainSpec:
                workerSpec: {scriptBootFile: builtin:logreg}
                trigger:
                  checkPeriodSeconds: 30
                  timer: {start: "22:00", end: "04:00"}
                  condition: {operator: ge, threshold: 500, metric: num_of_samples}
              evalSpec:
                workerSpec: {scriptBootFile: builtin:logreg}
              deploySpec:
                model: {name: m1}
                workerSpec: {scriptBootFile: builtin:logreg}
                trigger:
                  condition: {operator: ne, threshold: 0, metric: "recall_delta[3]"}

            """
        let loaded = try TaskSpecLoader.load(text: yaml).get()
        guard case let .incrementalLearningJob(job) = loaded.spec.kind else { Issue.record("not a job"); return }
        #expect(job.trainSpec.trigger.condition.comparison == .greaterOrEqual)
        #expect(job.deploySpec.trigger.condition == TriggerCondition(metric: "recall_delta[3]", comparison: .notEqual, threshold: 0))
        #expect(try TaskSpec(wireBytes: loaded.spec.wireBytes) == loaded.spec, "ne survives the signed encoding")
    }
}
