/// Logarithm, exponential and random draws written with IEEE basic operations only.
///
/// The platform's libm may differ in the last bit between systems, which would change delays and
/// so whole runs; these functions give the same bits everywhere (and keep the engine free of
/// Foundation). Accuracy is a few ulps, far more than a delay model needs.
public enum DeterministicMath {
    static let ln2 = 0.693_147_180_559_945_309_4

    /// Natural logarithm of a positive finite number.
    public static func log(_ x: Double) -> Double {
        precondition(x > 0 && x.isFinite, "log of \(x)")
        var exponent = Double(Int(x.exponent))
        var mantissa = x.significand // [1, 2)
        if mantissa > 1.414_213_562_373_095_1 {
            mantissa /= 2
            exponent += 1
        }
        // ln(m) = 2 atanh(s), s = (m - 1) / (m + 1), |s| < 0.172
        let s = (mantissa - 1) / (mantissa + 1)
        let s2 = s * s
        var term = s
        var sum = 0.0
        var k = 1.0
        for _ in 0..<14 {
            sum += term / k
            term *= s2
            k += 2
        }
        return 2 * sum + exponent * ln2
    }

    /// e^x (0 below -745, infinity above 709.78).
    public static func exp(_ x: Double) -> Double {
        if x.isNaN { return x }
        if x > 709.78 { return .infinity }
        if x < -745 { return 0 }
        let k = (x / ln2).rounded()
        let r = x - k * ln2 // |r| <= ln2 / 2
        var term = 1.0
        var sum = 1.0
        for n in 1...20 {
            term *= r / Double(n)
            sum += term
        }
        // Scale by 2^k in two steps so subnormal results do not overflow the exponent field.
        let half = Int(k) / 2
        return sum * Double(sign: .plus, exponent: half, significand: 1)
            * Double(sign: .plus, exponent: Int(k) - half, significand: 1)
    }

    /// Uniform in [0, 1).
    public static func unit<R: RandomNumberGenerator>(_ random: inout R) -> Double {
        Double(random.next() >> 11) * 0x1p-53
    }

    /// Uniform in (0, 1]: safe to take the logarithm of.
    public static func openUnit<R: RandomNumberGenerator>(_ random: inout R) -> Double {
        Double((random.next() >> 11) + 1) * 0x1p-53
    }

    /// True with probability `p`.
    public static func chance<R: RandomNumberGenerator>(_ p: Double, _ random: inout R) -> Bool {
        p > 0 && unit(&random) < p
    }

    /// Uniform integer in 0..<bound (Lemire's method, unbiased).
    public static func below<R: RandomNumberGenerator>(_ bound: Int, _ random: inout R) -> Int {
        precondition(bound > 0)
        let range = UInt64(bound)
        var product = random.next().multipliedFullWidth(by: range)
        if product.low < range {
            let threshold = (0 &- range) % range
            while product.low < threshold { product = random.next().multipliedFullWidth(by: range) }
        }
        return Int(product.high)
    }

    /// Uniform in [low, high].
    public static func uniform<R: RandomNumberGenerator>(_ low: Double, _ high: Double, _ random: inout R) -> Double {
        low + (high - low) * unit(&random)
    }

    /// Exponential with the given mean.
    public static func exponential<R: RandomNumberGenerator>(mean: Double, _ random: inout R) -> Double {
        -mean * log(openUnit(&random))
    }

    /// Standard normal (Marsaglia's polar method: needs only log and square root).
    public static func normal<R: RandomNumberGenerator>(_ random: inout R) -> Double {
        while true {
            let u = 2 * unit(&random) - 1
            let v = 2 * unit(&random) - 1
            let s = u * u + v * v
            if s > 0 && s < 1 { return u * (-2 * log(s) / s).squareRoot() }
        }
    }

    /// Log-normal with the given median and shape (sigma of the underlying normal).
    public static func lognormal<R: RandomNumberGenerator>(median: Double, sigma: Double, _ random: inout R) -> Double {
        median * exp(sigma * normal(&random))
    }

    /// `count` distinct indices of 0..<population, in a deterministic order (partial Fisher-Yates).
    public static func sample<R: RandomNumberGenerator>(_ count: Int, of population: Int, _ random: inout R) -> [Int] {
        var pool = Array(0..<population)
        let wanted = min(count, population)
        for i in 0..<wanted {
            let j = i + below(population - i, &random)
            pool.swapAt(i, j)
        }
        return Array(pool.prefix(wanted))
    }
}
