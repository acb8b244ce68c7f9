/// The hot loops of aggregation: SIMD over contiguous Float buffers. The unsafe pointer code is
/// confined to this file.
enum VectorMath {
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

    /// `values * factor`, a new array.
    static func scaled(_ values: ArraySlice<Float>, by factor: Float) -> [Float] {
        [Float](unsafeUninitializedCapacity: values.count) { out, initialized in
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
            initialized = values.count
        }
    }

    /// The index of the first NaN or infinity in `values`, or nil. A SIMD pass (x·0 is NaN exactly
    /// when x is not finite) then, only when something was found, a scalar search for the index.
    static func firstNonFinite(_ values: [Float]) -> Int? {
        let clean: Bool = values.withUnsafeBufferPointer { src in
            guard let source = src.baseAddress else { return true }
            let input = UnsafeRawPointer(source)
            let count = src.count
            var probe = SIMD16<Float>(repeating: 0)
            var index = 0
            while index + 16 <= count {
                probe += input.loadUnaligned(fromByteOffset: index &* 4, as: SIMD16<Float>.self) * 0
                index &+= 16
            }
            var tail: Float = 0
            while index < count { tail += source[index] * 0; index &+= 1 }
            return tail == 0 && probe == SIMD16<Float>(repeating: 0)
        }
        if clean { return nil }
        return values.firstIndex { !$0.isFinite }
    }

    /// Sum of all values (the read-bandwidth reference of the benchmark).
    static func sum(_ values: [Float]) -> Float {
        values.withUnsafeBufferPointer { src in
            guard let source = src.baseAddress else { return 0 }
            let input = UnsafeRawPointer(source)
            let count = src.count
            var a = SIMD16<Float>(repeating: 0)
            var b = SIMD16<Float>(repeating: 0)
            var index = 0
            while index + 32 <= count {
                a += input.loadUnaligned(fromByteOffset: index &* 4, as: SIMD16<Float>.self)
                b += input.loadUnaligned(fromByteOffset: (index &+ 16) &* 4, as: SIMD16<Float>.self)
                index &+= 32
            }
            var total = (a + b).sum()
            while index < count { total += source[index]; index &+= 1 }
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
