import CLBridge
import Kernels

extension OpenCLBackend {
    // MARK: Chunking

    /// Splits `count` matrices so that no buffer exceeds the device's maximum
    /// allocation and the `alive` buffers of a chunk stay within half of its
    /// global memory (or `chunkBytesLimit`, a test hook).
    func chunks(count: Int, bytesPerItem: Int, alive: Int) -> [Range<Int>] {
        let dev = runtime.device
        var limit = min(Int(clamping: dev.maxAllocation), Int(clamping: dev.globalMemory / 2) / max(alive, 1))
        if let cap = chunkBytesLimit { limit = min(limit, cap) }
        let per = max(1, limit / max(bytesPerItem, 1))
        return stride(from: 0, to: count, by: per).map { $0..<min($0 + per, count) }
    }

    /// Device buffers holding `factors.lu` and `factors.pivots`: the resident
    /// ones if this device produced them, else uploaded now.
    func factorBuffers<T: LUScalar>(_ f: LUFactors<T>) throws -> (lu: CLBuffer, piv: CLBuffer) {
        if let d = f.device, d.owner == ObjectIdentifier(runtime),
           let lu = d.lu as? CLBuffer, let piv = d.pivots as? CLBuffer {
            return (lu, piv)
        }
        return (try upload(f.lu.elements), try upload(f.pivots.elements))
    }

    /// Uploads the factors of the matrices `used` (in that order).
    func uploadFactors<T: LUScalar>(_ f: LUFactors<T>, _ used: [Int]) throws -> (lu: CLBuffer, piv: CLBuffer) {
        let size = f.rows * f.cols, k = f.k
        var lu = [T](), piv = [Int32]()
        lu.reserveCapacity(used.count * size)
        piv.reserveCapacity(used.count * k)
        for i in used {
            lu += f.lu.elements[(i * size)..<((i + 1) * size)]
            piv += f.pivots.elements[(i * k)..<((i + 1) * k)]
        }
        return (try upload(lu), try upload(piv))
    }

    /// The factor buffers for matrices `r`: the whole (resident or uploaded)
    /// set when it fits the device in one piece, else just that range.
    func factorRange<T: LUScalar>(_ f: LUFactors<T>, _ r: Range<Int>, whole: (lu: CLBuffer, piv: CLBuffer)?) throws
        -> (lu: CLBuffer, piv: CLBuffer, offset: Int) {
        if let w = whole { return (w.lu, w.piv, r.lowerBound) }
        let b = try uploadFactors(f, Array(r))
        return (b.lu, b.piv, 0)
    }

    /// Whether all of `f`'s factors fit the device at once (then they are
    /// used whole, resident if this device made them).
    func wholeFactors<T: LUScalar>(_ f: LUFactors<T>) throws -> (lu: CLBuffer, piv: CLBuffer)? {
        let bytes = f.rows * f.cols * MemoryLayout<T>.stride
        return chunks(count: f.batchCount, bytesPerItem: bytes, alive: 2).count == 1 ? try factorBuffers(f) : nil
    }

    // MARK: Forward

    public func luFactor<T: LUScalar>(_ a: Tensor<T>, pivot: Bool) throws -> LUFactors<T> {
        let prog = try program(T.self)
        let m = a.rows, n = a.cols, k = min(m, n), batch = a.batchCount
        let size = m * n, esize = MemoryLayout<T>.stride
        let tiny = max(m, n) <= table.tinyMaxN && size * esize + 64 <= Int(runtime.device.localMemory)
        let usesCLBlast = !tiny && k > table.blockSize
            && min(m - table.blockSize, n - table.blockSize, table.blockSize) >= table.clblastMinSize
        // Matrices per work-group on the tiny path (0 on the blocked path).
        let packed = tiny ? table.tinyMatricesPerGroup(m: m, n: n, elementBytes: esize,
                                                       localMemory: Int(clamping: runtime.device.localMemory)) : 0
        let path = tiny ? (packed > 1 ? "tiny-getrf(\(packed)/group)" : "tiny-getrf") : (usesCLBlast ? "blocked-getrf+clblast" : "blocked-getrf")
        let execution = Execution(backend: name, path: path)
        if batch == 0 || k == 0 {
            return LUFactors(unchecked: a, pivots: Tensor(unchecked: a.batchShape + [k], elements: []),
                             info: Tensor(unchecked: a.batchShape, elements: [Int32](repeating: 0, count: batch)),
                             pivoted: pivot, execution: execution)
        }
        let ranges = chunks(count: batch, bytesPerItem: size * esize, alive: 1)
        var lu = [T](), piv = [Int32](), info = [Int32]()
        lu.reserveCapacity(batch * size)
        var resident: DeviceFactors?
        try withCLErrors {
            for r in ranges {
                let (luBuf, pivBuf, infoBuf) = try factorOnDevice(prog, a.elements[(r.lowerBound * size)..<(r.upperBound * size)],
                                                                  count: r.count, m: m, n: n, pivot: pivot, tinyPerGroup: packed,
                                                                  as: T.self)
                lu += try download(luBuf, count: r.count * size, as: T.self, zero: .zero)
                piv += try download(pivBuf, count: r.count * k, as: Int32.self, zero: 0)
                info += try download(infoBuf, count: r.count, as: Int32.self, zero: 0)
                if ranges.count == 1 {
                    resident = DeviceFactors(owner: ObjectIdentifier(runtime), lu: luBuf, pivots: pivBuf)
                }
            }
        }
        return LUFactors(unchecked: Tensor(unchecked: a.shape, elements: lu),
                         pivots: Tensor(unchecked: a.batchShape + [k], elements: piv),
                         info: Tensor(unchecked: a.batchShape, elements: info),
                         pivoted: pivot, execution: execution, device: resident)
    }

    /// `tinyPerGroup` > 0: the tiny path with that many matrices per work-group; 0: the blocked path.
    private func factorOnDevice<T: LUScalar>(_ prog: CLProgram, _ host: ArraySlice<T>, count: Int, m: Int, n: Int, pivot: Bool,
                                             tinyPerGroup: Int, as _: T.Type) throws -> (CLBuffer, CLBuffer, CLBuffer) {
        let k = min(m, n), size = m * n
        let aBuf = try upload(host)
        let pivBuf = try ctx.buffer(bytes: count * k * 4)
        let infoBuf = try upload([Int32](repeating: 0, count: count))
        let gs = table.groupSize
        // Per-matrix kernels launch at most maxGroupsPerLaunch work-groups at a time.
        // `per` matrices per group of `items` work-items.
        func perMatrix(_ kernelName: String, items: Int = gs, per: Int = 1, _ args: (CLKernel, Int) throws -> Void) throws {
            var base = 0
            while base < count {
                let groups = min(table.maxGroupsPerLaunch, (count - base + per - 1) / per)
                let kern = try prog.kernel(kernelName)
                try args(kern, base)
                try kern.launch(on: ctx, global: [groups * items], local: [items])
                base += groups * per
            }
        }
        if tinyPerGroup > 0 {
            let per = tinyPerGroup
            let team = table.tinyTeamSize(m: m, n: n)
            try perMatrix("getrf_tiny", items: per * team, per: per) { kern, base in
                try kern.args(.buffer(aBuf), .buffer(pivBuf), .buffer(infoBuf), .int(m), .int(n), .int(pivot ? 1 : 0),
                              .long(base), .long(count), .int(per), .local(per * size * MemoryLayout<T>.stride),
                              .local(8 * per))
            }
        } else {
            let nb = table.blockSize
            var j0 = 0
            while j0 < k {
                let jb = min(nb, k - j0)
                try perMatrix("getrf_panel") { kern, base in
                    try kern.args(.buffer(aBuf), .buffer(pivBuf), .buffer(infoBuf), .int(m), .int(n), .int(j0), .int(jb),
                                  .int(pivot ? 1 : 0), .long(base), .long(count), .local(8))
                }
                let right = n - j0 - jb, below = m - j0 - jb
                if right > 0 {
                    let panel = j0 * n + j0
                    try trsm(T.self, prog, a: MatRef(buf: aBuf, off: panel, stride: size, ld: n),
                             b: MatRef(buf: aBuf, off: panel + jb, stride: size, ld: n),
                             m: jb, n: right, side: .left, uplo: .lower, trans: .none, unit: true, batch: count)
                    if below > 0 {
                        try gemm(T.self, prog, a: MatRef(buf: aBuf, off: panel + jb * n, stride: size, ld: n), transA: .none,
                                 b: MatRef(buf: aBuf, off: panel + jb, stride: size, ld: n), transB: .none,
                                 c: MatRef(buf: aBuf, off: panel + jb * n + jb, stride: size, ld: n),
                                 m: below, n: right, k: jb, alpha: -1, beta: 1, batch: count)
                    }
                }
                j0 += jb
            }
        }
        return (aBuf, pivBuf, infoBuf)
    }

    // MARK: Solve

    public func luSolve<T: LUScalar>(_ factors: LUFactors<T>, _ b: Tensor<T>, factorIndex: [Int],
                                     adjoint: Bool) throws -> Tensor<T> {
        let n = factors.rows, nrhs = b.cols, count = b.batchCount
        if count == 0 || n == 0 || nrhs == 0 { return b }
        let prog = try program(T.self)
        let size = n * nrhs
        var out = [T]()
        out.reserveCapacity(count * size)
        try withCLErrors {
            // Factors too large for one piece are uploaded per chunk of
            // right-hand sides: only the matrices that chunk uses.
            let whole = try wholeFactors(factors)
            let esize = MemoryLayout<T>.stride
            let per = size * esize + (whole == nil ? n * n * esize + 4 * n : 0)
            for r in chunks(count: count, bytesPerItem: per, alive: 2) {
                let xBuf = try upload(b.elements[(r.lowerBound * size)..<(r.upperBound * size)])
                let luBuf: CLBuffer, pivBuf: CLBuffer, local: [Int32]
                if let w = whole {
                    (luBuf, pivBuf) = w
                    local = factorIndex[r].map { Int32($0) }
                } else {
                    let used = Array(Set(factorIndex[r])).sorted()
                    var position = [Int: Int32]()
                    for (i, f) in used.enumerated() { position[f] = Int32(i) }
                    (luBuf, pivBuf) = try uploadFactors(factors, used)
                    local = factorIndex[r].map { position[$0] ?? 0 }
                }
                let map = try upload(local)
                let lu = MatRef(buf: luBuf, stride: n * n, ld: n), x = MatRef(buf: xBuf, stride: size, ld: nrhs)
                if !adjoint {
                    try swapRows(T.self, prog, x: xBuf, stride: size, cols: nrhs, ipiv: pivBuf, k: n, reverse: false,
                                 batch: r.count, map: map)
                    try trsm(T.self, prog, a: lu, b: x, m: n, n: nrhs, side: .left, uplo: .lower, trans: .none, unit: true,
                             batch: r.count, map: map)
                    try trsm(T.self, prog, a: lu, b: x, m: n, n: nrhs, side: .left, uplo: .upper, trans: .none, unit: false,
                             batch: r.count, map: map)
                } else {
                    try trsm(T.self, prog, a: lu, b: x, m: n, n: nrhs, side: .left, uplo: .upper, trans: .adjoint, unit: false,
                             batch: r.count, map: map)
                    try trsm(T.self, prog, a: lu, b: x, m: n, n: nrhs, side: .left, uplo: .lower, trans: .adjoint, unit: true,
                             batch: r.count, map: map)
                    try swapRows(T.self, prog, x: xBuf, stride: size, cols: nrhs, ipiv: pivBuf, k: n, reverse: true,
                                 batch: r.count, map: map)
                }
                out += try download(xBuf, count: r.count * size, as: T.self, zero: .zero)
            }
        }
        return Tensor(unchecked: b.shape, elements: out)
    }

    // MARK: Backward

    public func luFactorBackward<T: LUScalar>(_ factors: LUFactors<T>, _ gradLU: Tensor<T>) throws -> Tensor<T> {
        let m = factors.rows, n = factors.cols, k = min(m, n), count = factors.batchCount
        if count == 0 || k == 0 { return try Tensor<T>(zeros: gradLU.shape) }
        let prog = try program(T.self)
        let size = m * n, esize = MemoryLayout<T>.stride
        let ranges = chunks(count: count, bytesPerItem: (3 * size + 2 * k * k) * esize, alive: 1)
        var out = [T]()
        out.reserveCapacity(count * size)
        try withCLErrors {
            let whole: (lu: CLBuffer, piv: CLBuffer)? = ranges.count == 1 ? try factorBuffers(factors) : nil
            for r in ranges {
                let luBuf = try whole?.lu ?? upload(factors.lu.elements[(r.lowerBound * size)..<(r.upperBound * size)])
                let pivBuf = try whole?.piv ?? upload(factors.pivots.elements[(r.lowerBound * k)..<(r.upperBound * k)])
                let gBuf = try upload(gradLU.elements[(r.lowerBound * size)..<(r.upperBound * size)])
                let oBuf = try ctx.buffer(bytes: r.count * size * esize)
                let wBuf = try ctx.buffer(bytes: r.count * k * k * esize)
                let rBuf = try ctx.buffer(bytes: r.count * k * k * esize)
                try backwardOnDevice(T.self, prog, m: m, n: n, batch: r.count, lu: luBuf, piv: pivBuf, g: gBuf,
                                     out: oBuf, w: wBuf, r: rBuf)
                out += try download(oBuf, count: r.count * size, as: T.self, zero: .zero)
            }
        }
        return Tensor(unchecked: gradLU.shape, elements: out)
    }

    /// MATH.md's three cases with batched kernels; mirrors the CPU's `Backward`.
    private func backwardOnDevice<T: LUScalar>(_: T.Type, _ p: CLProgram, m: Int, n: Int, batch: Int,
                                               lu luBuf: CLBuffer, piv: CLBuffer, g gBuf: CLBuffer,
                                               out oBuf: CLBuffer, w wBuf: CLBuffer, r rBuf: CLBuffer) throws {
        let k = min(m, n), size = m * n
        let lu = MatRef(buf: luBuf, stride: size, ld: n)
        let g = MatRef(buf: gBuf, stride: size, ld: n)
        let out = MatRef(buf: oBuf, stride: size, ld: n)
        let w = MatRef(buf: wBuf, stride: k * k, ld: k), r = MatRef(buf: rBuf, stride: k * k, ld: k)
        if m == n {
            try combine(T.self, p, d: w, x: g, rows: n, cols: n, mode: .trilStrict, batch: batch)
            try combine(T.self, p, d: out, x: g, rows: n, cols: n, mode: .triu, batch: batch)
            try trmm(T.self, p, a: lu, b: w, m: n, n: n, side: .left, uplo: .lower, trans: .adjoint, unit: true, batch: batch)
            try trmm(T.self, p, a: lu, b: out, m: n, n: n, side: .right, uplo: .upper, trans: .adjoint, unit: false, batch: batch)
            try combine(T.self, p, d: out, x: out, y: w, rows: n, cols: n, mode: .lowerFromY, batch: batch)   // Φ
            try trsm(T.self, p, a: lu, b: out, m: n, n: n, side: .left, uplo: .lower, trans: .adjoint, unit: true, batch: batch)
            try trsm(T.self, p, a: lu, b: out, m: n, n: n, side: .right, uplo: .upper, trans: .adjoint, unit: false, batch: batch)
        } else if m < n {
            try combine(T.self, p, d: w, x: g, rows: m, cols: m, mode: .trilStrict, batch: batch)
            try combine(T.self, p, d: r, x: g, rows: m, cols: m, mode: .triu, batch: batch)
            try trmm(T.self, p, a: lu, b: w, m: m, n: m, side: .left, uplo: .lower, trans: .adjoint, unit: true, batch: batch)
            try trmm(T.self, p, a: lu, b: r, m: m, n: m, side: .right, uplo: .upper, trans: .adjoint, unit: false, batch: batch)
            var g2 = g, u2 = lu
            g2.off = m; u2.off = m
            try gemm(T.self, p, a: g2, transA: .none, b: u2, transB: .adjoint, c: r, m: m, n: m, k: n - m,
                     alpha: 1, beta: 1, batch: batch)
            try combine(T.self, p, d: w, x: w, y: r, rows: m, cols: m, mode: .lowerDiff, batch: batch)
            try trsm(T.self, p, a: lu, b: w, m: m, n: m, side: .right, uplo: .upper, trans: .adjoint, unit: false, batch: batch)
            try combine(T.self, p, d: out, x: w, y: g, rows: m, cols: m, mode: .addTriuY, batch: batch)
            var out2 = out
            out2.off = m
            try combine(T.self, p, d: out2, x: g2, rows: m, cols: n - m, mode: .copy, batch: batch)
            try trsm(T.self, p, a: lu, b: out, m: m, n: n, side: .left, uplo: .lower, trans: .adjoint, unit: true, batch: batch)
        } else {
            try combine(T.self, p, d: r, x: g, rows: n, cols: n, mode: .triu, batch: batch)
            try combine(T.self, p, d: w, x: g, rows: n, cols: n, mode: .trilStrict, batch: batch)
            try trmm(T.self, p, a: lu, b: r, m: n, n: n, side: .right, uplo: .upper, trans: .adjoint, unit: false, batch: batch)
            try trmm(T.self, p, a: lu, b: w, m: n, n: n, side: .left, uplo: .lower, trans: .adjoint, unit: true, batch: batch)
            var g2 = g, l2 = lu
            g2.off = n * n; l2.off = n * n
            try gemm(T.self, p, a: l2, transA: .adjoint, b: g2, transB: .none, c: w, m: n, n: n, k: m - n,
                     alpha: 1, beta: 1, batch: batch)
            try combine(T.self, p, d: r, x: r, y: w, rows: n, cols: n, mode: .upperDiff, batch: batch)
            try trsm(T.self, p, a: lu, b: r, m: n, n: n, side: .left, uplo: .lower, trans: .adjoint, unit: true, batch: batch)
            try combine(T.self, p, d: out, x: r, y: g, rows: n, cols: n, mode: .addTrilStrictY, batch: batch)
            var out2 = out
            out2.off = n * n
            try combine(T.self, p, d: out2, x: g2, rows: m - n, cols: n, mode: .copy, batch: batch)
            try trsm(T.self, p, a: lu, b: out, m: m, n: n, side: .right, uplo: .upper, trans: .adjoint, unit: false, batch: batch)
        }
        try swapRows(T.self, p, x: oBuf, stride: size, cols: n, ipiv: piv, k: k, reverse: true, batch: batch)
    }

    // MARK: Unpack, det

    public func luUnpack<T: LUScalar>(_ factors: LUFactors<T>) throws -> LUUnpacked<T> {
        let m = factors.rows, n = factors.cols, k = factors.k, count = factors.batchCount, batch = factors.batchShape
        if count == 0 || m == 0 || n == 0 { return try HostLU.unpack(factors) }
        let prog = try program(T.self)
        let esize = MemoryLayout<T>.stride
        return try withCLErrors {
            let whole = try wholeFactors(factors)
            var P = [T](), L = [T](), U = [T](), perm = [Int32]()
            let per = (m * m + m * k + k * n + (whole == nil ? m * n : 0)) * esize + 4 * (m + k)
            for r in chunks(count: count, bytesPerItem: per, alive: 2) {
                let (luBuf, pivBuf, offset) = try factorRange(factors, r, whole: whole)
                let permBuf = try ctx.buffer(bytes: r.count * m * 4)
                let pBuf = try ctx.buffer(bytes: r.count * m * m * esize)
                let lBuf = try ctx.buffer(bytes: r.count * m * k * esize)
                let uBuf = try ctx.buffer(bytes: r.count * k * n * esize)
                let pk = try prog.kernel("perm_from_pivots")
                try pk.args(.buffer(pivBuf), .buffer(permBuf), .int(m), .int(k), .long(offset), .long(r.count))
                try pk.launch(on: ctx, global: [pad(r.count, 16)], local: [16])
                let uk = try prog.kernel("unpack")
                try uk.args(.buffer(luBuf), .buffer(permBuf), .buffer(pBuf), .buffer(lBuf), .buffer(uBuf), .int(m), .int(n),
                            .long(offset))
                try uk.launch(on: ctx, global: [pad(max(m, n), 8), pad(m, 8), r.count], local: [8, 8, 1])
                P += try download(pBuf, count: r.count * m * m, as: T.self, zero: .zero)
                L += try download(lBuf, count: r.count * m * k, as: T.self, zero: .zero)
                U += try download(uBuf, count: r.count * k * n, as: T.self, zero: .zero)
                perm += try download(permBuf, count: r.count * m, as: Int32.self, zero: 0)
            }
            return LUUnpacked(P: Tensor(unchecked: batch + [m, m], elements: P),
                              L: Tensor(unchecked: batch + [m, k], elements: L),
                              U: Tensor(unchecked: batch + [k, n], elements: U),
                              permutation: Tensor(unchecked: batch + [m], elements: perm))
        }
    }

    public func det<T: LUScalar>(_ factors: LUFactors<T>) throws -> Tensor<T> {
        try determinants(factors).det
    }

    public func slogdet<T: LUScalar>(_ factors: LUFactors<T>) throws -> (sign: Tensor<T>, logAbsDet: Tensor<T.RealScalar>) {
        let d = try determinants(factors)
        return (d.sign, d.logAbsDet)
    }

    private func determinants<T: LUScalar>(_ f: LUFactors<T>) throws
        -> (det: Tensor<T>, sign: Tensor<T>, logAbsDet: Tensor<T.RealScalar>) {
        let n = f.rows, count = f.batchCount
        if count == 0 || n == 0 {
            let (sign, logAbsDet) = HostLU.slogdet(f)
            return (HostLU.det(f), sign, logAbsDet)
        }
        let prog = try program(T.self)
        return try withCLErrors {
            let whole = try wholeFactors(f)
            var d = [T](), sg = [T](), l = [T.RealScalar]()
            for r in chunks(count: count, bytesPerItem: n * n * MemoryLayout<T>.stride + 4 * n, alive: 2) {
                let (luBuf, pivBuf, offset) = try factorRange(f, r, whole: whole)
                let dBuf = try ctx.buffer(bytes: r.count * MemoryLayout<T>.stride)
                let sBuf = try ctx.buffer(bytes: r.count * MemoryLayout<T>.stride)
                let lBuf = try ctx.buffer(bytes: r.count * MemoryLayout<T.RealScalar>.stride)
                let kern = try prog.kernel("det_batched")
                try kern.args(.buffer(luBuf), .buffer(pivBuf), .int(n), .long(offset), .long(r.count),
                              .buffer(dBuf), .buffer(sBuf), .buffer(lBuf))
                try kern.launch(on: ctx, global: [pad(r.count, 16)], local: [16])
                d += try download(dBuf, count: r.count, as: T.self, zero: .zero)
                sg += try download(sBuf, count: r.count, as: T.self, zero: .zero)
                l += try download(lBuf, count: r.count, as: T.RealScalar.self, zero: 0)
            }
            return (Tensor(unchecked: f.batchShape, elements: d), Tensor(unchecked: f.batchShape, elements: sg),
                    Tensor(unchecked: f.batchShape, elements: l))
        }
    }

    /// Runs device work; an OpenCL failure becomes a typed error naming this
    /// backend and the CL status. Nothing partial is returned.
    func withCLErrors<R>(_ body: () throws -> R) throws -> R {
        do { return try body() } catch let e as CLError {
            throw BatchLUError.backendUnavailable(backend: name, reason: e.description)
        }
    }
}
