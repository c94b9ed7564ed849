/// Which backend and which kernel path produced a result.
public struct Execution: Sendable, Equatable, CustomStringConvertible {
    /// The backend's name: `cpu`, or `opencl:<device>`.
    public var backend: String
    /// The kernel path, e.g. `native-tiny`, `lapack-getrf`, `native-blocked-nopivot`.
    public var path: String
    public init(backend: String, path: String) {
        self.backend = backend
        self.path = path
    }
    public var description: String { "\(backend)/\(path)" }
}

/// The packed result of an LU factorization, LAPACK style:
/// `A = P L U` with `L` unit lower trapezoidal and `U` upper trapezoidal,
/// stored together in ``lu``.
public struct LUFactors<T: LUScalar>: Sendable {
    /// Packed factors, shape `[..., m, n]`: `L` below the diagonal (unit
    /// diagonal implied), `U` on and above it.
    public let lu: Tensor<T>
    /// 1-based row interchanges, shape `[..., min(m, n)]`: at step `i`, row `i`
    /// was swapped with row `pivots[i] - 1`.
    public let pivots: Tensor<Int32>
    /// Per matrix, shape `[...]`: 0 on success, `j > 0` if `U[j-1, j-1]` is exactly zero.
    public let info: Tensor<Int32>
    /// Whether the factorization used row exchanges.
    public let pivoted: Bool
    /// Which backend and kernel path produced these factors (`nil` for
    /// factors built by the caller).
    public let execution: Execution?
    /// Device-resident copies of `lu` and `pivots`, kept by the backend that
    /// produced them so its solve and backward do not upload again.
    let device: DeviceFactors?

    /// Factors from elsewhere (for instance loaded from `.npy` files saved by
    /// `torch.linalg.lu_factor_ex`). Validated here, so every later call can
    /// trust them: shapes must match, pivots must lie in `1...m`, and for
    /// `pivoted: false` the pivots must be the identity.
    public init(lu: Tensor<T>, pivots: Tensor<Int32>, info: Tensor<Int32>, pivoted: Bool = true) throws {
        guard lu.rank >= 2 else { throw BatchLUError.rankTooLow(operation: "LUFactors", shape: lu.shape) }
        let k = min(lu.rows, lu.cols)
        let expected = lu.batchShape + [k]
        guard pivots.shape == expected else {
            throw BatchLUError.pivotsShapeMismatch(expected: expected, got: pivots.shape)
        }
        guard info.shape == lu.batchShape else {
            throw BatchLUError.infoShapeMismatch(expected: lu.batchShape, got: info.shape)
        }
        let m = lu.rows
        try pivots.withUnsafeBufferPointer { p in
            for idx in 0..<p.count {
                let v = p[idx], b = idx / max(k, 1), pos = idx % max(k, 1)
                guard v >= 1, Int(v) <= m else {
                    throw BatchLUError.pivotOutOfRange(batchIndex: b, position: pos, value: v, rows: m)
                }
                if !pivoted, Int(v) != pos + 1 {
                    throw BatchLUError.pivotsNotIdentity(batchIndex: b, position: pos, value: v)
                }
            }
        }
        self.init(unchecked: lu, pivots: pivots, info: info, pivoted: pivoted, execution: nil, device: nil)
    }

    init(unchecked lu: Tensor<T>, pivots: Tensor<Int32>, info: Tensor<Int32>, pivoted: Bool,
         execution: Execution?, device: DeviceFactors? = nil) {
        self.device = device
        self.lu = lu
        self.pivots = pivots
        self.info = info
        self.pivoted = pivoted
        self.execution = execution
    }

    /// `m`, `n` and `k = min(m, n)`.
    public var rows: Int { lu.rows }
    public var cols: Int { lu.cols }
    public var batchShape: [Int] { lu.batchShape }
    public var batchCount: Int { lu.batchCount }
    var k: Int { min(lu.rows, lu.cols) }
}

/// `P`, `L` and `U` of a factorization, unpacked: `A = P L U`.
public struct LUUnpacked<T: LUScalar>: Sendable {
    /// Permutation matrices, shape `[..., m, m]`.
    public let P: Tensor<T>
    /// Unit lower trapezoidal, shape `[..., m, k]`.
    public let L: Tensor<T>
    /// Upper trapezoidal, shape `[..., k, n]`.
    public let U: Tensor<T>
    /// The same permutation as indices, 0-based, shape `[..., m]`:
    /// row `i` of `P^T A` is row `permutation[i]` of `A` (so `P[permutation[i], i] == 1`).
    public let permutation: Tensor<Int32>
}

/// Factors left on a device by the backend that computed them. Opaque to
/// other backends; released when the last `LUFactors` holding them goes away.
final class DeviceFactors: @unchecked Sendable {
    // Immutable after creation; the buffers are only read by later calls.
    let owner: ObjectIdentifier
    let lu: AnyObject
    let pivots: AnyObject
    init(owner: ObjectIdentifier, lu: AnyObject, pivots: AnyObject) {
        self.owner = owner
        self.lu = lu
        self.pivots = pivots
    }
}
