import CMemory

/// The hot loops of aggregation: SIMD over contiguous Float buffers. The unsafe pointer code is
/// confined to this file.
enum VectorMath {
    /// Sources `combine` reads in one pass (see there).
    static let combineStreamsMax = 8

    /// A new array of `count` floats, every one written by `body`. A buffer of a model's size is
    /// first hinted as huge pages (see `LearningLimits.hugePageHintBytes`).
    static func makeFloats(count: Int, _ body: (UnsafeMutableBufferPointer<Float>) -> Void) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { out, initialized in
            if count * MemoryLayout<Float>.stride >= LearningLimits.hugePageHintBytes, let base = out.baseAddress {
                starling_advise_huge_pages(base, count * MemoryLayout<Float>.stride)
            }
            body(out)
            initialized = count
        }
    }

    /// `accumulator[offset ..< offset + values.count] += weight * values`, one pass, 16 lanes at a time.
    static func addScaled(_ values: [Float], weight: Float, into accumulator: inout [Float], at offset: Int) {
        precondition(offset >= 0 && offset + values.count <= accumulator.count)
        accumulator.withUnsafeMutableBufferPointer { acc in
            values.withUnsafeBufferPointer { src in
                addScaled(src, weight: weight, into: UnsafeMutableBufferPointer(rebasing: acc[offset..<(offset + src.count)]))
            }
        }
    }

    @inline(__always)
    static func addScaled(_ src: UnsafeBufferPointer<Float>, weight: Float, into acc: UnsafeMutableBufferPointer<Float>) {
        let count = src.count
        guard count > 0, let source = src.baseAddress, let target = acc.baseAddress else { return }
        let input = UnsafeRawPointer(source)
        let output = UnsafeMutableRawPointer(target)
        let scale = SIMD16<Float>(repeating: weight)
        let stride = MemoryLayout<SIMD16<Float>>.stride
        var index = 0
        while index + 16 <= count {
            let byteOffset = index &* 4
            let x = input.loadUnaligned(fromByteOffset: byteOffset, as: SIMD16<Float>.self)
            let y = output.loadUnaligned(fromByteOffset: byteOffset, as: SIMD16<Float>.self)
            output.storeBytes(of: y + x * scale, toByteOffset: byteOffset, as: SIMD16<Float>.self)
            index &+= 16
        }
        _ = stride
        while index < count {
            target[index] += weight * source[index]
            index &+= 1
        }
    }

    /// `out[i] = baseScale · base[i] + Σ_j weights[j] · sources[j][i]` over `count` values (`base`
    /// nil reads as zeros; `out` may be `base`). One pass: each source, the base and the output are
    /// touched once, 16 lanes at a time.
    static func combine(base: UnsafePointer<Float>?, baseScale: Float, sources: [UnsafePointer<Float>], weights: [Float],
                        count: Int, into out: UnsafeMutablePointer<Float>) {
        precondition(sources.count == weights.count)
        // Past `combineStreamsMax` sources, one pass per group: a hundred streams read at once
        // defeat the prefetchers and the TLB (100 × 1M floats: 95 ms in one pass, 24 ms in groups
        // of 8, 59 ms in groups of 16); the output is re-read per group, from cache when small.
        guard sources.count <= combineStreamsMax else {
            var start = 0
            while start < sources.count {
                let end = min(start + combineStreamsMax, sources.count)
                combine(base: start == 0 ? base : UnsafePointer(out), baseScale: start == 0 ? baseScale : 1,
                        sources: Array(sources[start..<end]), weights: Array(weights[start..<end]), count: count, into: out)
                start = end
            }
            return
        }
        let output = UnsafeMutableRawPointer(out)
        let scaleVector = SIMD16<Float>(repeating: baseScale)
        sources.withUnsafeBufferPointer { sourceList in
            weights.withUnsafeBufferPointer { weightList in
                let k = sourceList.count
                var index = 0
                while index + 16 <= count {
                    let byteOffset = index &* 4
                    var total = base.map { UnsafeRawPointer($0).loadUnaligned(fromByteOffset: byteOffset, as: SIMD16<Float>.self) }
                        ?? SIMD16<Float>(repeating: 0)
                    if baseScale != 1 { total *= scaleVector }
                    var j = 0
                    while j < k {
                        let x = UnsafeRawPointer(sourceList[j]).loadUnaligned(fromByteOffset: byteOffset, as: SIMD16<Float>.self)
                        total += x * SIMD16<Float>(repeating: weightList[j])
                        j &+= 1
                    }
                    output.storeBytes(of: total, toByteOffset: byteOffset, as: SIMD16<Float>.self)
                    index &+= 16
                }
                while index < count {
                    var total = (base?[index] ?? 0) * baseScale
                    for j in 0..<k { total += weightList[j] * sourceList[j][index] }
                    out[index] = total
                    index &+= 1
                }
            }
        }
    }

    /// Calls `body` with base pointers of all `arrays` (each non-empty), valid during the call.
    static func withPointers<R>(_ arrays: [[Float]], _ body: ([UnsafePointer<Float>]) -> R) -> R {
        func descend(_ index: Int, _ collected: inout [UnsafePointer<Float>]) -> R {
            if index == arrays.count { return body(collected) }
            return arrays[index].withUnsafeBufferPointer { buffer in
                collected.append(buffer.baseAddress!)
                return descend(index + 1, &collected)
            }
        }
        var collected: [UnsafePointer<Float>] = []
        collected.reserveCapacity(arrays.count)
        return descend(0, &collected)
    }

    /// `baseScale · base + Σ weights[j] · sources[j]` as a new array (base nil: zeros).
    static func combined(base: [Float]?, baseScale: Float = 1, sources: [[Float]], weights: [Float], count: Int) -> [Float] {
        guard count > 0 else { return [] }
        return makeFloats(count: count) { out in
            withPointers(sources) { pointers in
                if let base {
                    base.withUnsafeBufferPointer { combine(base: $0.baseAddress!, baseScale: baseScale, sources: pointers, weights: weights, count: count, into: out.baseAddress!) }
                } else {
                    combine(base: nil, baseScale: 1, sources: pointers, weights: weights, count: count, into: out.baseAddress!)
                }
            }
        }
    }

    /// `accumulator = baseScale · accumulator + Σ weights[j] · sources[j]`, in place, one pass.
    static func accumulate(_ sources: [[Float]], weights: [Float], baseScale: Float, into accumulator: inout [Float]) {
        let count = accumulator.count
        guard count > 0 else { return }
        accumulator.withUnsafeMutableBufferPointer { acc in
            withPointers(sources) { pointers in
                combine(base: UnsafePointer(acc.baseAddress!), baseScale: baseScale, sources: pointers, weights: weights, count: count, into: acc.baseAddress!)
            }
        }
    }

    /// `values * factor`, a new array.
    static func scaled(_ values: ArraySlice<Float>, by factor: Float) -> [Float] {
        makeFloats(count: values.count) { out in
            values.withUnsafeBufferPointer { src in
                let count = src.count
                var index = 0
                if let source = src.baseAddress, let target = out.baseAddress {
                    let input = UnsafeRawPointer(source)
                    let output = UnsafeMutableRawPointer(target)
                    let scale = SIMD16<Float>(repeating: factor)
                    while index + 16 <= count {
                        let x = input.loadUnaligned(fromByteOffset: index &* 4, as: SIMD16<Float>.self)
                        output.storeBytes(of: x * scale, toByteOffset: index &* 4, as: SIMD16<Float>.self)
                        index &+= 16
                    }
                    while index < count { target[index] = source[index] * factor; index &+= 1 }
                }
            }
        }
    }

    /// The index of the first NaN or infinity in `values`, or nil. A SIMD pass (x·0 is NaN exactly
    /// when x is not finite) then, only when something was found, a scalar search for the index.
    static func firstNonFinite(_ values: [Float]) -> Int? {
        let clean: Bool = values.withUnsafeBufferPointer { src in
            guard let source = src.baseAddress else { return true }
            var probe = SIMD16<Float>(repeating: 0)
            let tail = quarters(source, count: src.count) { x in probe += x * 0 }
            var rest: Float = 0
            for index in tail..<src.count { rest += source[index] * 0 }
            return rest == 0 && probe == SIMD16<Float>(repeating: 0)
        }
        if clean { return nil }
        return values.firstIndex { !$0.isFinite }
    }

    /// Calls `body` with every 16-float block of the first `tail` values (returned), reading four
    /// quarters of the buffer side by side: four streams keep more memory reads in flight than one.
    @inline(__always)
    static func quarters(_ source: UnsafePointer<Float>, count: Int, _ body: (SIMD16<Float>) -> Void) -> Int {
        let input = UnsafeRawPointer(source)
        let quarter = count / 64 * 16
        let q = quarter &* 4
        var offset = 0
        while offset < q {
            body(input.loadUnaligned(fromByteOffset: offset, as: SIMD16<Float>.self))
            body(input.loadUnaligned(fromByteOffset: offset &+ q, as: SIMD16<Float>.self))
            body(input.loadUnaligned(fromByteOffset: offset &+ 2 &* q, as: SIMD16<Float>.self))
            body(input.loadUnaligned(fromByteOffset: offset &+ 3 &* q, as: SIMD16<Float>.self))
            offset &+= 64
        }
        return quarter &* 4
    }

    /// Sum of all values (the read-bandwidth reference of the benchmark), four quarters side by side.
    static func sum(_ values: [Float]) -> Float {
        values.withUnsafeBufferPointer { src in
            guard let source = src.baseAddress else { return 0 }
            var a = SIMD16<Float>(repeating: 0)
            let tail = quarters(source, count: src.count) { x in a += x }
            var total = a.sum()
            for index in tail..<src.count { total += source[index] }
            return total
        }
    }

    /// Squared Euclidean distance, accumulated in Double per 16-lane block.
    static func squaredDistance(_ left: [Float], _ right: [Float]) -> Double {
        precondition(left.count == right.count)
        var total = 0.0
        left.withUnsafeBufferPointer { a in
            right.withUnsafeBufferPointer { b in
                let count = a.count
                guard let pa = a.baseAddress, let pb = b.baseAddress else { return }
                var index = 0
                while index + 16 <= count {
                    var block = SIMD16<Float>(repeating: 0)
                    var inner = 0
                    // Up to 1,024 floats per Float block, then into Double.
                    while inner < 64 && index + 16 <= count {
                        let d = UnsafeRawPointer(pa).loadUnaligned(fromByteOffset: index &* 4, as: SIMD16<Float>.self)
                            - UnsafeRawPointer(pb).loadUnaligned(fromByteOffset: index &* 4, as: SIMD16<Float>.self)
                        block += d * d
                        index &+= 16
                        inner &+= 1
                    }
                    total += Double(block.sum())
                }
                while index < count {
                    let d = Double(pa[index]) - Double(pb[index])
                    total += d * d
                    index &+= 1
                }
            }
        }
        return total
    }
}

/// The sum of all floats of `updates` in one SIMD pass each: the read-bandwidth limit that a weighted
/// sum over the same bytes cannot beat. Public for `starling-bench`.
public enum ReadBandwidthProbe {
    public static func sum(_ arrays: [[Float]]) -> Float {
        var total: Float = 0
        for array in arrays { total += VectorMath.sum(array) }
        return total
    }
}
