/// Σ a[k] b[k] over `count` floats, eight lanes at a time: the small dot products of attention and
/// RMSNorm, and of GPTQ's group fits and the refit's reductions (large products go through the C
/// GEMMs). It lives in the engine, below both the runtime and the quantizer, so they share one.
@inlinable @inline(__always)
public func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Float {
    dot(a, b, count, lanes: SIMD8<Float>.self)
}

/// Σ a[k] b[k] over `count` doubles, four lanes at a time: the Cholesky factor's inner products.
@inlinable @inline(__always)
public func dot(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ count: Int) -> Double {
    dot(a, b, count, lanes: SIMD4<Double>.self)
}

/// Σ a[k] b[k] in `Lanes.scalarCount` independent sums, so the additions overlap, then the tail.
@inlinable @inline(__always)
func dot<Lanes: SIMD>(_ a: UnsafePointer<Lanes.Scalar>, _ b: UnsafePointer<Lanes.Scalar>, _ count: Int,
                      lanes _: Lanes.Type) -> Lanes.Scalar where Lanes.Scalar: FloatingPoint {
    var lanes = Lanes()
    var k = 0
    while k + Lanes.scalarCount <= count {
        lanes += UnsafeRawPointer(a + k).loadUnaligned(as: Lanes.self) * UnsafeRawPointer(b + k).loadUnaligned(as: Lanes.self)
        k += Lanes.scalarCount
    }
    var sum = lanes.sum()
    while k < count {
        sum += a[k] * b[k]
        k += 1
    }
    return sum
}
