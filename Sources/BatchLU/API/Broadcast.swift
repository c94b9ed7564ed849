/// Batch broadcasting as in NumPy / PyTorch: shapes are aligned on the
/// right; each dimension pair must be equal or contain a 1.
struct BatchBroadcast: Equatable {
    let shape: [Int]
    /// For each flat index of `shape`, the flat batch index into the first / second operand.
    let lhsIndex: [Int]
    let rhsIndex: [Int]

    init(_ a: [Int], _ b: [Int]) throws {
        let r = max(a.count, b.count)
        let pa = Array(repeating: 1, count: r - a.count) + a
        let pb = Array(repeating: 1, count: r - b.count) + b
        var out = [Int]()
        for (x, y) in zip(pa, pb) {
            if x == y || y == 1 { out.append(x) } else if x == 1 { out.append(y) } else {
                throw BatchLUError.batchShapesDoNotBroadcast(a, b)
            }
        }
        shape = out
        // Validate the size before allocating the index maps.
        let total = try Tensor<Int32>.checkedCount(out)
        lhsIndex = BatchBroadcast.sourceIndices(out, pa, total)
        rhsIndex = BatchBroadcast.sourceIndices(out, pb, total)
    }

    private static func sourceIndices(_ out: [Int], _ src: [Int], _ total: Int) -> [Int] {
        // Strides of the source, with zero stride on broadcast dimensions.
        var strides = [Int](repeating: 0, count: src.count)
        var s = 1
        for d in stride(from: src.count - 1, through: 0, by: -1) {
            strides[d] = src[d] == 1 ? 0 : s
            s *= src[d]
        }
        var result = [Int](repeating: 0, count: total)
        var idx = [Int](repeating: 0, count: out.count)
        for flat in 0..<total {
            var off = 0
            for d in 0..<out.count { off += idx[d] * strides[d] }
            result[flat] = off
            var d = out.count - 1
            while d >= 0 {
                idx[d] += 1
                if idx[d] < out[d] { break }
                idx[d] = 0
                d -= 1
            }
        }
        return result
    }
}
