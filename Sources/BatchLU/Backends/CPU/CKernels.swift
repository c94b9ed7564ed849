import CBatchKernels
import Dispatch
import Foundation

// The Swift face of Sources/CBatchKernels: the interleaved kernels, the
// recursive getrf, transposes, and fresh memory with huge-page advice.

/// Whether the C kernels (``Interleaved``, ``BlockedLU``, ``RecursiveLU``)
/// take `T`: the real types, `Double` and `Float`.
func cKernelsSupport<T: LUScalar>(_: T.Type) -> Bool { T.self == Double.self || T.self == Float.self }

/// The CPU backend's kernels for batches of small square real matrices
/// (`Sources/CBatchKernels`): 8 (`Double`) or 16 (`Float`) matrices held
/// interleaved so that every step of getf2 and of the backward is one vector
/// instruction for the whole group. Same semantics as ``Native/getf2``.
enum Interleaved {
    /// The variant the kernels run on this CPU (`BLK_ISA_*`), and its name:
    /// `avx512`, `avx2` or `baseline`.
    static let detectedISA: Int32 = blk_isa_detected()
    static let isa: String = String(cString: blk_isa_name(detectedISA))

    /// Matrices per vector group (the batch is split on multiples of this).
    static let groupAlign = 16

    /// A kernel's status: -1 is its scratch allocation failing (a trap, as a
    /// Swift array's allocation failure is), -2 a size outside 1...64 (callers
    /// check `n` first).
    private static func check(_ rc: Int32) {
        precondition(rc != -1, "BatchLU: out of memory for the interleaved kernels' scratch")
        precondition(rc == 0, "BatchLU: interleaved kernel called with an unsupported size")
    }

    /// The variants this CPU runs, `(number, name)` (tests run each).
    static var supportedISAs: [(Int32, String)] {
        (0...detectedISA).filter { blk_isa_supported($0) != 0 }.map { ($0, String(cString: blk_isa_name($0))) }
    }

    /// Factors `count` n×n matrices read from `input`, writing `out` (which
    /// may be `input`), with the instruction-set variant `variant`; with
    /// `stream`, `out` is written with non-temporal stores (same values; for
    /// outputs larger than the caches).
    static func getrf<T: LUScalar>(_ input: UnsafePointer<T>, _ out: UnsafeMutablePointer<T>,
                                   ipiv: UnsafeMutablePointer<Int32>, info: UnsafeMutablePointer<Int32>,
                                   count: Int, n: Int, pivot: Bool, stream: Bool = false,
                                   variant: Int32 = detectedISA) {
        let i = UnsafeRawPointer(input), o = UnsafeMutableRawPointer(out)
        let rc: Int32
        if T.self == Double.self {
            rc = blk_getrf_f64(variant, i.assumingMemoryBound(to: Double.self), o.assumingMemoryBound(to: Double.self),
                              ipiv, info, Int64(count), Int32(n), pivot ? 1 : 0, stream ? 1 : 0)
        } else if T.self == Float.self {
            rc = blk_getrf_f32(variant, i.assumingMemoryBound(to: Float.self), o.assumingMemoryBound(to: Float.self),
                              ipiv, info, Int64(count), Int32(n), pivot ? 1 : 0, stream ? 1 : 0)
        } else {
            preconditionFailure("Interleaved.getrf: \(T.typeName) is not supported")
        }
        check(rc)
    }

    /// The square backward (Φ, two triangular solves, the row permutation)
    /// of `count` n×n matrices into `out`, which must not alias the inputs;
    /// `stream` as for ``getrf(_:_:ipiv:info:count:n:pivot:stream:variant:)``.
    static func backward<T: LUScalar>(lu: UnsafePointer<T>, ipiv: UnsafePointer<Int32>, g: UnsafePointer<T>,
                                      out: UnsafeMutablePointer<T>, count: Int, n: Int, stream: Bool = false,
                                      variant: Int32 = detectedISA) {
        let l = UnsafeRawPointer(lu), gr = UnsafeRawPointer(g), o = UnsafeMutableRawPointer(out)
        let rc: Int32
        if T.self == Double.self {
            rc = blk_getrf_backward_f64(variant, l.assumingMemoryBound(to: Double.self), ipiv,
                                       gr.assumingMemoryBound(to: Double.self), o.assumingMemoryBound(to: Double.self),
                                       Int64(count), Int32(n), stream ? 1 : 0)
        } else if T.self == Float.self {
            rc = blk_getrf_backward_f32(variant, l.assumingMemoryBound(to: Float.self), ipiv,
                                       gr.assumingMemoryBound(to: Float.self), o.assumingMemoryBound(to: Float.self),
                                       Int64(count), Int32(n), stream ? 1 : 0)
        } else {
            preconditionFailure("Interleaved.backward: \(T.typeName) is not supported")
        }
        check(rc)
    }
}

/// The blocked row-major LU of the C kernels (`rowmajor_impl.h`) for real
/// matrices of any shape: one matrix at a time, panels of 8 (`Double`) or 16
/// (`Float`) columns, the trailing update in register tiles; same semantics
/// as ``Native/getf2`` and the interleaved kernels, same variants. Also the
/// backward (square, wide and tall), in the same register tiles.
enum BlockedLU {
    /// Factors `count` m×n matrices read from `input` into `out` (which may
    /// be `input`).
    static func getrf<T: LUScalar>(_ input: UnsafePointer<T>, _ out: UnsafeMutablePointer<T>,
                                   ipiv: UnsafeMutablePointer<Int32>, info: UnsafeMutablePointer<Int32>,
                                   count: Int, m: Int, n: Int, pivot: Bool,
                                   variant: Int32 = Interleaved.detectedISA) {
        let i = UnsafeRawPointer(input), o = UnsafeMutableRawPointer(out)
        let rc: Int32
        if T.self == Double.self {
            rc = blk_getrf_rm_f64(variant, i.assumingMemoryBound(to: Double.self),
                                  o.assumingMemoryBound(to: Double.self), ipiv, info, Int64(count), Int32(m), Int32(n),
                                  pivot ? 1 : 0)
        } else if T.self == Float.self {
            rc = blk_getrf_rm_f32(variant, i.assumingMemoryBound(to: Float.self),
                                  o.assumingMemoryBound(to: Float.self), ipiv, info, Int64(count), Int32(m), Int32(n),
                                  pivot ? 1 : 0)
        } else {
            preconditionFailure("BlockedLU.getrf: \(T.typeName) is not supported")
        }
        check(rc)
    }

    /// The backward of `count` m×n matrices of any shape (Φ, or the wide or
    /// tall S, in register tiles, the triangular solves by blocks of rows)
    /// into `out`, which must not alias the inputs.
    static func backward<T: LUScalar>(lu: UnsafePointer<T>, ipiv: UnsafePointer<Int32>, g: UnsafePointer<T>,
                                      out: UnsafeMutablePointer<T>, count: Int, m: Int, n: Int,
                                      variant: Int32 = Interleaved.detectedISA) {
        let l = UnsafeRawPointer(lu), gr = UnsafeRawPointer(g), o = UnsafeMutableRawPointer(out)
        let rc: Int32
        if T.self == Double.self {
            rc = blk_getrf_backward_rm_f64(variant, l.assumingMemoryBound(to: Double.self), ipiv,
                                          gr.assumingMemoryBound(to: Double.self),
                                          o.assumingMemoryBound(to: Double.self), Int64(count), Int32(m), Int32(n))
        } else if T.self == Float.self {
            rc = blk_getrf_backward_rm_f32(variant, l.assumingMemoryBound(to: Float.self), ipiv,
                                          gr.assumingMemoryBound(to: Float.self),
                                          o.assumingMemoryBound(to: Float.self), Int64(count), Int32(m), Int32(n))
        } else {
            preconditionFailure("BlockedLU.backward: \(T.typeName) is not supported")
        }
        check(rc)
    }

    /// Factors `count` large m×n matrices read from `input` into `out`
    /// (which may be `input`), one after the other (`blk_getrf_rm_large`):
    /// panels of `panel` columns (default 64, 128 from min(m, n) = 1536),
    /// trailing updates by OpenBLAS GEMM, which must be single-threaded; with
    /// `threads` > 1 each matrix's copy and each step are shared by that
    /// many threads, the next panel factored while the rest is updated.
    static func getrfLarge<T: LUScalar>(_ input: UnsafePointer<T>, _ out: UnsafeMutablePointer<T>,
                                        ipiv: UnsafeMutablePointer<Int32>, info: UnsafeMutablePointer<Int32>,
                                        count: Int, m: Int, n: Int, pivot: Bool, threads: Int, panel: Int? = nil,
                                        variant: Int32 = Interleaved.detectedISA) {
        let i = UnsafeRawPointer(input), o = UnsafeMutableRawPointer(out)
        let nb = Int32(panel ?? (min(m, n) >= 1536 ? 128 : 64)), p: Int32 = pivot ? 1 : 0
        let rc: Int32
        if T.self == Double.self {
            rc = blk_getrf_rm_large_f64(variant, i.assumingMemoryBound(to: Double.self),
                                        o.assumingMemoryBound(to: Double.self), ipiv, info, Int64(count), Int32(m),
                                        Int32(n), p, nb, Int32(threads))
        } else if T.self == Float.self {
            rc = blk_getrf_rm_large_f32(variant, i.assumingMemoryBound(to: Float.self),
                                        o.assumingMemoryBound(to: Float.self), ipiv, info, Int64(count), Int32(m),
                                        Int32(n), p, nb, Int32(threads))
        } else {
            preconditionFailure("BlockedLU.getrfLarge: \(T.typeName) is not supported")
        }
        check(rc)
    }

    private static func check(_ rc: Int32) {
        precondition(rc != -1, "BatchLU: out of memory for the blocked kernel's scratch")
        precondition(rc == 0, "BatchLU: blocked kernel called with an empty matrix")
    }
}

/// A new array of `count` elements of a trivial type (numbers) that `fill`
/// must initialise completely.
/// Large arrays are advised to use huge pages before their first write,
/// which makes the first-touch page faults of a fresh buffer several times
/// cheaper (on this 2-core VM: 51 MB costs about 26 ms in 4 KiB faults).
func freshArray<T>(count: Int, _ fill: (UnsafeMutablePointer<T>) -> Void) -> [T] {
    [T](unsafeUninitializedCapacity: count) { buf, initialized in
        if let base = buf.baseAddress {
            let bytes = count * MemoryLayout<T>.stride
            if bytes >= 4 << 20 { blk_advise_huge_pages(UnsafeMutableRawPointer(base), bytes) }
            fill(base)
        }
        initialized = count
    }
}

/// BatchLU's recursive getrf (`Sources/CBatchKernels/getrf_recursive.c`)
/// for real matrices, column-major, LAPACK's contract.
enum RecursiveLU {
    static func getrf<T: LUScalar>(m: Int, n: Int, a: UnsafeMutablePointer<T>, lda: Int,
                                   ipiv: UnsafeMutablePointer<Int32>) -> Int32 {
        let raw = UnsafeMutableRawPointer(a)
        if T.self == Double.self {
            return blk_getrf_cm_f64(Int32(m), Int32(n), raw.assumingMemoryBound(to: Double.self), Int32(lda), ipiv)
        } else if T.self == Float.self {
            return blk_getrf_cm_f32(Int32(m), Int32(n), raw.assumingMemoryBound(to: Float.self), Int32(lda), ipiv)
        }
        preconditionFailure("RecursiveLU.getrf: \(T.typeName) is not supported")
    }
}

/// `dst` (cols × rows, leading dimension `ldd`) = the transpose of `src`
/// (rows × cols, leading dimension `lds`), in cache-sized tiles.
func transpose<T: LUScalar>(rows: Int, cols: Int, _ src: UnsafePointer<T>, lds: Int,
                            _ dst: UnsafeMutablePointer<T>, ldd: Int) {
    blk_transpose(Int32(MemoryLayout<T>.stride), Int32(rows), Int32(cols), src, Int32(lds), dst, Int32(ldd))
}

/// ``transpose``, split by rows over the cores when the matrix is `alone`
/// (the only one of its batch chunk) and large.
func parallelTranspose<T: LUScalar>(rows: Int, cols: Int, _ src: UnsafePointer<T>, lds: Int,
                                    _ dst: UnsafeMutablePointer<T>, ldd: Int, alone: Bool) {
    let threads = Parallel.cores
    guard alone, threads > 1, rows * cols >= 1 << 18 else {
        transpose(rows: rows, cols: cols, src, lds: lds, dst, ldd: ldd)
        return
    }
    let s = SendablePointer(UnsafeMutablePointer(mutating: src)), d = SendablePointer(dst)
    // Each piece writes its own columns of dst (its rows of src).
    DispatchQueue.concurrentPerform(iterations: threads) { p in
        let r0 = rows * p / threads, r1 = rows * (p + 1) / threads
        if r0 < r1 { transpose(rows: r1 - r0, cols: cols, s.base + r0 * lds, lds: lds, d.base + r0, ldd: ldd) }
    }
}

/// Uninitialised scratch memory for `count` elements; from 4 MiB up it is
/// aligned to 2 MiB and advised to use huge pages (see ``freshArray``).
func allocateScratch<T>(_: T.Type, count: Int) -> UnsafeMutablePointer<T> {
    let bytes = count * MemoryLayout<T>.stride
    guard bytes >= 4 << 20 else { return UnsafeMutablePointer<T>.allocate(capacity: count) }
    let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 2 << 20)
    blk_advise_huge_pages(raw, bytes)
    return raw.bindMemory(to: T.self, capacity: count)
}
