/// Σ a[k] b[k] over `count` floats, eight lanes at a time: the small dot products of GPTQ's group
/// fits and the refit's reductions, and of attention and RMSNorm (large products go through the C GEMMs).
@inlinable @inline(__always)
public func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Float {
    var lanes = SIMD8<Float>.zero
    var k = 0
    while k + 8 <= count {
        lanes += UnsafeRawPointer(a + k).loadUnaligned(as: SIMD8<Float>.self)
            * UnsafeRawPointer(b + k).loadUnaligned(as: SIMD8<Float>.self)
        k += 8
    }
    var sum = lanes.sum()
    while k < count {
        sum += a[k] * b[k]
        k += 1
    }
    return sum
}
