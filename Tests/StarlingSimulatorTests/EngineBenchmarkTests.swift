import Foundation
import Testing
@testable import StarlingSimulator

/// The engine's speed with cheap fake machines. Off by default (it takes a while and means little
/// in a debug build); run it in release:
///   STARLING_ENGINE_BENCHMARK=1 swift test -c release --filter EngineBenchmarkTests
/// or, without building the tests, `starling simulate --engine-benchmark [--nodes N --seconds S]`.
@Suite struct EngineBenchmarkTests {
    @Test(.enabled(if: ProcessInfo.processInfo.environment["STARLING_ENGINE_BENCHMARK"] != nil))
    func tenThousandNodesForAMinute() {
        let result = EngineBenchmark.run(nodes: 10_000, seconds: 60)
        print(result.summary)
        #expect(result.events > 1_500_000)
    }

    @Test func theBenchmarkRunsAndIsDeterministic() {
        let first = EngineBenchmark.run(nodes: 200, seconds: 5), second = EngineBenchmark.run(nodes: 200, seconds: 5)
        #expect(first.events > 2_000)
        #expect(first.traceHash == second.traceHash)
    }
}
